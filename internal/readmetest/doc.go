// Package readmetest holds the tests that keep the documentation honest:
// the README's quick start runs as written against a fresh build and prints
// what the README shows; every README code block is either run by a test or
// marked illustrative; the front door's two commands work; every relative
// link in README.md and docs/ resolves; and every requirement ID cited
// anywhere in the repository is defined in docs/requirements.md.
//
// README code blocks are marked in their fence's info string:
//
//   - "sh quickstart": a quick start step, run by TestQuickStart in one bash
//     process, in order, from the repository's root;
//   - "text output": what the quick start block just before it prints
//     ("…" stands for any text within a line; a run of spaces for any run
//     of spaces); a step with no output block must print nothing;
//   - "sh frontdoor": the two commands on the first screen, checked by
//     TestFrontDoor;
//   - "<lang> illustrative": shown, not run.
package readmetest
