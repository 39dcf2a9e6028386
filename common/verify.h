/* verify: the tools claw.yml asks for, judged by what the guest's package managers say.
 * The guest runs the script script_verify() writes, in one SSH session; it answers in
 * sections, each a header "@claw KIND N STATUS BYTES" and then exactly BYTES of one
 * command's output. A tool is installed when its package manager lists it; its commands
 * are the ones its package declares (a formula's bin/, an npm package's "bin", a cask's
 * .app and binaries), each of which must be found on the guest's PATH (an .app: among its
 * applications). No command is ever guessed from a name. Never prints. */
#ifndef CLAW_VERIFY_H
#define CLAW_VERIFY_H

#include <jansson.h>
#include <stddef.h>

struct claw_config;

/* The sections, by kind; N is the tool's index in its claw.yml list, 0 for the others.
 * Each package manager is asked once for everything, not once a tool. */
#define VERIFY_PATH "path"           /* every executable on PATH, in PATH order, one full path a line */
#define VERIFY_APPS "apps"           /* every .app in the applications folders, one full path a line */
#define VERIFY_BREW "brew"           /* brew --version */
#define VERIFY_FORMULAE "formulae"   /* brew list --formula --versions: "RACK V1 V2" a line */
#define VERIFY_KEGS "kegs"           /* brew list --formula NAME...: every keg's files */
#define VERIFY_KEG "keg"             /* brew list --formula NAME, each alone when the above failed */
#define VERIFY_CASKS "casks"         /* brew list --cask --versions: "TOKEN VERSION" a line */
#define VERIFY_BREW_INFO "brew-info" /* brew info --json=v2 --installed: aliases, keg-only, a cask's artifacts */
#define VERIFY_NPM_LS "npm-ls"       /* npm ls -g --json --depth=0 */
#define VERIFY_NPM_PKG "npm-pkg"     /* the installed package.json of the N-th npm package */

/* An npm spec's package name: "@scope/name@1.2" -> "@scope/name", "name@latest" -> "name". */
char *verify_npm_package(const char *spec);

/* The guest's answer, judged: a new array of tools in the order claw.yml lists them (brew
 * itself first when tools.homebrew), each {name, version, installed, kind, commands, missing,
 * ok} with commands {command: where it was found} and missing [commands not found]; an npm
 * tool whose spec names a version also has package, a keg-only formula keg_only. A report
 * that is not made of whole sections is EX_DATAERR. */
int verify_judge(const struct claw_config *cfg, const char *report, size_t len, json_t **tools);

#endif
