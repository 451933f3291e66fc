# bash completion for upsim(1).
#
# Installed as $(PREFIX)/share/bash-completion/completions/upsim, where
# bash-completion loads it the first time `upsim` is completed; or source
# it from ~/.bashrc. It needs nothing from bash-completion itself.
#
# Options come from `upsim --help`, `upsim ctl --help`, `upsim check
# --help` and `upsim record --help` as they are
# written here; fault names are asked of the upsim being completed
# (`upsim faults`) each time, so they follow the installed binary.

# The fault names in `upsim faults` output: the first word of each
# unindented line of its first section (the header line is skipped; the
# next line ending in ':' starts another section; read to the end, so
# upsim never writes into a closed pipe).
_upsim_faults() {
	local bin=$1
	command -v -- "$bin" >/dev/null 2>&1 || bin=upsim
	"$bin" faults 2>/dev/null |
		awk 'NR == 1 || done { next } /^[^ \t]/ { if ($0 ~ /:$/) done = 1; else print $1 }'
}

# Scenario (and fleet) files: *.json and directories to descend into.
_upsim_json() {
	compopt -o filenames 2>/dev/null
	local IFS=$'\n'
	COMPREPLY+=($(compgen -d -- "$1") $(compgen -f -X '!*.json' -- "$1"))
}

_upsim_files() {
	compopt -o filenames 2>/dev/null
	local IFS=$'\n'
	COMPREPLY+=($(compgen -f -- "$1"))
}

_upsim() {
	local cur=${COMP_WORDS[COMP_CWORD]}
	local prev=${COMP_WORDS[COMP_CWORD-1]}
	local bin=${COMP_WORDS[0]}
	COMPREPLY=()

	local commands="run validate faults check record ctl schema"
	local run_opts="-l --listen --upstream --fleet --forward-to --ready-file --max-connections
		--connection-memory --threads --hang-cap --admin --admin-token
		--journal --journal-size --request-id-header --access-log
		--log-format --duration --drill-ttl --start-at --tls --tls-cert --tls-key
		--tls-ca-out --tls-name -v --verbose"
	local ctl_opts="-a --admin -r --ready-file -t --token -u --upstream"
	local check_opts="-t --through -g --gateway -l --listen --forward-to --backup --tls --tls-cert
		--tls-key --tls-ca-out --tls-name --gateway-log
		--json --junit --observe --record --probe-timeout --settle --log-wait
		--start-delay --gateway-wait --shuffle --dns --dns-settle -v --verbose"
	local record_opts="-u --upstream -o --out -l --listen --keep-secrets --inline-max
		--count --ready-file -v --verbose"
	local ctl_commands="status stats load phase reset renew journal metrics healthz"

	# The command: the first word after upsim that is not an option.
	local i cmd='' cmd_at=0
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]} cmd_at=$i; break ;;
		esac
	done

	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return 0
	fi

	case $cmd in
	run)
		case $prev in
		--log-format)
			COMPREPLY=($(compgen -W "text json" -- "$cur")); return 0 ;;
		--fleet)
			_upsim_json "$cur"; return 0 ;;
		--tls)
			COMPREPLY=($(compgen -W "auto" -- "$cur")); return 0 ;;
		--ready-file | --journal | --access-log | --tls-cert | --tls-key | --tls-ca-out)
			_upsim_files "$cur"; return 0 ;;
		-l | --listen | --upstream | --forward-to | --max-connections | --connection-memory | \
		--threads | --hang-cap | --admin | --admin-token | --journal-size | \
		--request-id-header | --duration | --drill-ttl | --start-at | --tls-name)
			return 0 ;; # a value of the user's own
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$run_opts" -- "$cur"))
		else
			_upsim_json "$cur"
		fi
		;;
	validate)
		case $prev in
		--forward-to) return 0 ;; # a value of the user's own
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--forward-to" -- "$cur"))
		else
			_upsim_json "$cur"
		fi
		;;
	faults)
		COMPREPLY=($(compgen -W "$(_upsim_faults "$bin")" -- "$cur"))
		;;
	schema)
		COMPREPLY=($(compgen -W "--fleet" -- "$cur"))
		;;
	check)
		case $prev in
		-g | --gateway)
			COMPREPLY=($(compgen -W "nginx haproxy caddy varnish apache envoy" -- "$cur"))
			return 0 ;;
		--tls)
			COMPREPLY=($(compgen -W "auto" -- "$cur")); return 0 ;;
		--gateway-log | --junit | --tls-cert | --tls-key | --tls-ca-out)
			_upsim_files "$cur"; return 0 ;;
		-t | --through | -l | --listen | --forward-to | --backup | --probe-timeout | --settle | \
		--log-wait | --start-delay | --gateway-wait | --shuffle | --dns | --dns-settle | --tls-name)
			return 0 ;; # a value of the user's own
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$check_opts --help" -- "$cur"))
		else
			_upsim_json "$cur"
		fi
		;;
	record)
		case $prev in
		-o | --out | --ready-file)
			_upsim_files "$cur"; return 0 ;;
		-u | --upstream | -l | --listen | --inline-max | --count)
			return 0 ;; # a value of the user's own
		esac
		COMPREPLY=($(compgen -W "$record_opts --help" -- "$cur"))
		;;
	ctl)
		case $prev in
		-r | --ready-file)
			_upsim_files "$cur"; return 0 ;;
		-a | --admin | -t | --token | -u | --upstream | --since | --limit)
			return 0 ;;
		esac
		# The ctl subcommand: the first non-option word after ctl that is
		# not the value of an option.
		local sub='' j
		for ((j = cmd_at + 1; j < COMP_CWORD; j++)); do
			case ${COMP_WORDS[j]} in
			-a | --admin | -r | --ready-file | -t | --token | -u | --upstream) ((j++)) ;;
			-*) ;;
			*) sub=${COMP_WORDS[j]}; break ;;
			esac
		done
		case $sub in
		'')
			if [[ $cur == -* ]]; then
				COMPREPLY=($(compgen -W "$ctl_opts --help" -- "$cur"))
			else
				COMPREPLY=($(compgen -W "$ctl_commands" -- "$cur"))
			fi ;;
		load)
			_upsim_json "$cur"
			[[ -z $cur || $cur == - ]] && COMPREPLY+=(-) ;;
		journal)
			COMPREPLY=($(compgen -W "--since --limit" -- "$cur")) ;;
		esac
		;;
	esac
	return 0
}
complete -F _upsim upsim
