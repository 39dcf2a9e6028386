#!/usr/bin/env bats
# Every flag in each command's usage is completed by bash, zsh and fish: the
# usage message is the table, the completions must not drift from it.

load helpers/common

setup() { common_setup; }

# The flags a usage message's synopsis (up to its first blank line) names:
# -x clusters split into letters, --long words.
usage_flags() {
	"$1" -h | sed -n '1,/^$/p' | tr '[]|()' '     ' | tr ' ' '\n' | grep -E '^--?[A-Za-z]' | sed 's/[^A-Za-z0-9-].*$//' |
		while read -r w; do
			case $w in
			--*) echo "$w" ;;
			-*) printf -- '%s\n' "${w#-}" | fold -w1 | sed 's/^/-/' ;;
			esac
		done | sort -u
}

# The flags a man page's SYNOPSIS names: every word after a Fl macro, up to the next macro.
man_synopsis_flags() {
	python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
syn = text.split(".Sh SYNOPSIS", 1)[1].split("\n.Sh ", 1)[0]
flags, in_fl = set(), False
for w in syn.replace(".", " ").split():
    if w == "Fl":
        in_fl = True
    elif re.fullmatch(r"[A-Z][a-z]", w):
        in_fl = False
    elif in_fl and w != "|":
        if w.startswith("-"):
            flags.add("-" + w)
        else:
            flags.update("-" + ch for ch in w)
for f in sorted(flags):
    print(f)
PY
}

bash_completes() { # CMD -> every option bash offers after CMD
	bash -c '. "$1/completions/bash/$2"; COMP_WORDS=("$2" "-"); COMP_CWORD=1; "$(complete -p "$2" | sed "s/.*-F \([^ ]*\).*/\1/")"; printf "%s\n" "${COMPREPLY[@]}"' _ "$TOP" "$1"
}

zsh_completes() { # the option specs the zsh function hands to _arguments ('*': one that repeats)
	zsh -fc '_arguments() { print -rl -- "$@" }; _describe() { :; }; _files() { :; }; _normal() { :; }
		service=$2; words=($2 ""); CURRENT=2; source $1/completions/zsh/_claw' _ "$TOP" "$1" |
		sed -e 's/^([^)]*)//' -e 's/^\*//' -e 's/\[.*//' -e 's/=-*$//' | grep -E '^--?[A-Za-z]'
}

fish_completes() {
	fish -c "source $TOP/completions/fish/functions/__claw_bundles.fish; source $TOP/completions/fish/$1.fish; complete -C '$1 -'; complete -C '$1 --'" | cut -f1
}

check_all_shells() {
	local cmd=$1 missing=""
	local flags
	flags=$(usage_flags "$cmd")
	[ -n "$flags" ]
	local b z f
	b=$(bash_completes "$cmd")
	z=$(zsh_completes "$cmd")
	f=$(fish_completes "$cmd")
	for flag in $flags; do
		grep -qxe "$flag" <<<"$b" || missing="$missing bash:$flag"
		grep -qxe "$flag" <<<"$z" || missing="$missing zsh:$flag"
		grep -qxe "$flag" <<<"$f" || missing="$missing fish:$flag"
	done
	[ -z "$missing" ] || {
		echo "not completed:$missing"
		return 1
	}
}

@test "usage_flags reads a usage message" {
	run usage_flags claw-config
	assert_output $'--json\n--version\n-b\n-c\n-h\n-q\n-v'
}

@test "every command's usage flags complete in bash, zsh and fish" {
	local n=0
	for path in "$CLAW_BIN"/claw "$CLAW_BIN"/claw-*; do
		check_all_shells "$(basename "$path")"
		n=$((n + 1))
	done
	[ "$n" -ge 5 ]
}

@test "every command has a completion file for each shell and a man page" {
	for path in "$CLAW_BIN"/claw-*; do
		c=$(basename "$path")
		[ -f "$TOP/completions/bash/$c" ] || fail "no completions/bash/$c"
		[ -f "$TOP/completions/fish/$c.fish" ] || fail "no completions/fish/$c.fish"
		grep -q "^#compdef.* $c\b" "$TOP/completions/zsh/_claw" || fail "_claw does not #compdef $c"
		[ -f "$TOP/man/man1/$c.1" ] || fail "no man/man1/$c.1"
	done
}

@test "every long option in a man page's SYNOPSIS is in the usage, and the other way round" {
	for path in "$CLAW_BIN"/claw-*; do
		c=$(basename "$path")
		man_flags=$(man_synopsis_flags "$TOP/man/man1/$c.1")
		use_flags=$(usage_flags "$c" | sort -u)
		[ "$man_flags" = "$use_flags" ] || fail "$c: man has [${man_flags//$'\n'/ }], usage has [${use_flags//$'\n'/ }]"
	done
}

@test "claw: the commands complete, and a command's own flags after it" {
	run bash -c '. "$1/completions/bash/claw"; COMP_WORDS=(claw ""); COMP_CWORD=1; _claw; printf "%s\n" "${COMPREPLY[@]}"' _ "$TOP"
	assert_line ls
	assert_line config
	run bash -c '. "$1/completions/bash/claw"; COMP_WORDS=(claw config --js); COMP_CWORD=2; _claw; printf "%s\n" "${COMPREPLY[@]}"' _ "$TOP"
	assert_output --json
	run fish -c "source $TOP/completions/fish/claw-config.fish; source $TOP/completions/fish/claw.fish; complete -C 'claw config --js'"
	assert_output --partial --json
}

@test "bundle names complete from CLAW_HOME" {
	make_bundle "$CLAW_HOME/VMs/alpha.clawbundle" "$CLAW_HOME/VMs/beta.clawbundle"
	run bash -c '. "$1/completions/bash/claw"; COMP_WORDS=(claw-config -b ""); COMP_CWORD=2; _claw_config; printf "%s\n" "${COMPREPLY[@]}"' _ "$TOP"
	assert_output $'alpha\nbeta'
	run fish -c "source $TOP/completions/fish/functions/__claw_bundles.fish; source $TOP/completions/fish/claw-ls.fish; complete -C 'claw-ls '"
	assert_line alpha
	assert_line beta
}

@test "the driver's own commands complete: machine names, and create's flags and stages" {
	make_bundle "$CLAW_HOME/VMs/alpha.clawbundle"
	run bash -c '. "$1/completions/bash/claw"; COMP_WORDS=(claw ""); COMP_CWORD=1; _claw; printf "%s\n" "${COMPREPLY[@]}"' _ "$TOP"
	for c in create start stop suspend ssh rm clone; do assert_line "$c"; done
	run bash -c '. "$1/completions/bash/claw"; COMP_WORDS=(claw stop ""); COMP_CWORD=2; _claw; printf "%s\n" "${COMPREPLY[@]}"' _ "$TOP"
	assert_output alpha
	run bash -c '. "$1/completions/bash/claw"; COMP_WORDS=(claw create dev --from in); COMP_CWORD=4; _claw; printf "%s\n" "${COMPREPLY[@]}"' _ "$TOP"
	assert_output inject
	for f in --from --to --json --config --jobs; do
		run bash -c '. "$1/completions/bash/claw"; COMP_WORDS=(claw create "$2"); COMP_CWORD=2; _claw; printf "%s\n" "${COMPREPLY[@]}"' _ "$TOP" "$f"
		assert_line "$f"
		run fish -c "source $TOP/completions/fish/functions/__claw_bundles.fish; source $TOP/completions/fish/claw.fish; complete -C 'claw create $f'"
		assert_line --partial "$f"
	done
	run fish -c "source $TOP/completions/fish/functions/__claw_bundles.fish; source $TOP/completions/fish/claw.fish; complete -C 'claw rm '"
	assert_line alpha
}

@test "the zsh file loads in zsh without errors" {
	run zsh -fc "autoload -Uz compinit && compinit -u -D; fpath=($TOP/completions/zsh \$fpath); autoload -Uz _claw; whence -w _claw"
	assert_success
	assert_output "_claw: function"
}
