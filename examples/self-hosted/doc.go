// Package selfhosted holds no code: its directory is the self-hosting
// recipe (README.md, stockade.env, stockade.service, nginx.conf), and its
// test checks that the settings it shows load and validate through
// app.LoadConfig and that the files agree with one another.
package selfhosted
