# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Bash completion for rampartctl (installed as
# share/bash-completion/completions/rampartctl). Object names after
# describe/delete/ocsp refresh --cert come from the running control plane
# (`rampartctl --json get KIND`); when it cannot be reached nothing is
# offered and nothing is printed.

_rampartctl_names() {
	# _rampartctl_names KIND: names of the objects of KIND (plural).
	local -a sock=()
	local i
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		case ${COMP_WORDS[i]} in
		--socket | -s)
			# COMP_WORDBREAKS splits --socket=PATH into 3 words.
			if [ "${COMP_WORDS[i + 1]}" = "=" ]; then
				sock=(--socket "${COMP_WORDS[i + 2]}")
			else
				sock=(--socket "${COMP_WORDS[i + 1]}")
			fi
			;;
		--socket=*) sock=("${COMP_WORDS[i]}") ;;
		esac
	done
	# Items are objects at depth 2 of the indented JSON, so their own
	# "name" members sit at six spaces; names are [A-Za-z0-9._-].
	"${COMP_WORDS[0]}" "${sock[@]}" --json --timeout 2 get "$1" \
		2>/dev/null </dev/null |
		sed -n 's/^      "name": "\([A-Za-z0-9._-]*\)",\{0,1\}$/\1/p'
}

_rampartctl() {
	local cur prev words cword
	if declare -F _init_completion >/dev/null 2>&1; then
		_init_completion || return
	else
		COMPREPLY=()
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
	fi

	local globals="--socket --dataplane-socket --json --timeout --help"
	local commands="status stats apply get describe delete cert truststore
		tickets ocsp version help"
	local -a cmd=()
	local i w

	# The command words typed so far, global options and their values
	# skipped.
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		case $w in
		--socket | -s | --dataplane-socket | --timeout | -t)
			[ "${words[i + 1]-}" = "=" ] && ((i++))
			((i++))
			continue
			;;
		-*) continue ;;
		esac
		cmd+=("$w")
	done

	# --opt=VALUE arrives as "--opt" "=" "VALUE".
	[ "$prev" = "=" ] && [ "$cword" -ge 2 ] && prev=${words[cword - 2]}
	case $prev in
	--socket | -s | --dataplane-socket)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	--timeout | -t | --watch | -w | --name | -n)
		return
		;;
	-f | --filename | --key | --ca | --crl)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	--cert)
		if [ "${cmd[0]-}" = ocsp ]; then
			mapfile -t COMPREPLY < <(compgen -W \
				"$(_rampartctl_names certs)" -- "$cur")
		else
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi
		return
		;;
	esac

	local opts="" words_next=""
	case ${cmd[0]-} in
	"")
		words_next=$commands
		opts=$globals
		;;
	status) ;;
	stats) opts="--watch --lcores --all" ;;
	apply) opts="-f" ;;
	get)
		[ ${#cmd[@]} -eq 1 ] && words_next="distributions certs truststores"
		;;
	describe | delete)
		if [ ${#cmd[@]} -eq 1 ]; then
			words_next="distribution cert truststore"
		elif [ ${#cmd[@]} -eq 2 ]; then
			case ${cmd[1]} in
			distribution*) words_next=$(_rampartctl_names distributions) ;;
			cert*) words_next=$(_rampartctl_names certs) ;;
			truststore*) words_next=$(_rampartctl_names truststores) ;;
			esac
		fi
		;;
	cert)
		if [ ${#cmd[@]} -eq 1 ]; then
			words_next=import
		else
			opts="--name --cert --key --ca --replace"
		fi
		;;
	truststore)
		if [ ${#cmd[@]} -eq 1 ]; then
			words_next=create
		else
			opts="--name --ca --crl --replace"
		fi
		;;
	tickets)
		[ ${#cmd[@]} -eq 1 ] && words_next="rotate status"
		;;
	ocsp)
		if [ ${#cmd[@]} -eq 1 ]; then
			words_next="status refresh"
		elif [ "${cmd[1]}" = refresh ]; then
			opts="--cert"
		fi
		;;
	version) opts="--client" ;;
	help)
		case ${#cmd[@]} in
		1) words_next=$commands ;;
		2)
			case ${cmd[1]} in
			cert) words_next=import ;;
			truststore) words_next=create ;;
			tickets) words_next="rotate status" ;;
			ocsp) words_next="status refresh" ;;
			esac
			;;
		esac
		;;
	esac

	if [[ $cur == -* ]]; then
		[ -n "${cmd[0]-}" ] && opts="$opts --help --json"
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -W "$words_next" -- "$cur")
	fi
}

complete -F _rampartctl rampartctl
