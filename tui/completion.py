"""``tiltwatch completion bash|zsh``: a shell completion script made from the argument parser."""

from __future__ import annotations

import argparse

_BASH = """# tiltwatch completion for bash: eval "$(tiltwatch completion bash)" (e.g. in ~/.bashrc)
_tiltwatch() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} command=${{COMP_WORDS[1]}} words
    if [[ $COMP_CWORD -eq 1 ]]; then
        words="{commands} {global_options}"
    else
        case $command in
{cases}
        esac
    fi
    if [[ $cur == -* || -n $words ]]; then
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
    fi
    [[ $cur != -* ]] && COMPREPLY+=($(compgen -f -- "$cur"))
}}
complete -o filenames -F _tiltwatch tiltwatch
"""

_ZSH_PREFIX = """# tiltwatch completion for zsh: eval "$(tiltwatch completion zsh)" (e.g. in ~/.zshrc)
autoload -U +X bashcompinit && bashcompinit
"""


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(s for action in parser._actions for s in action.option_strings)


def completion_script(shell: str, parser: argparse.ArgumentParser) -> str:
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    cases = "\n".join(f"            {name}) words=\"{' '.join(_options(sub))}\" ;;"
                      for name, sub in subparsers.choices.items())
    script = _BASH.format(commands=" ".join(subparsers.choices), global_options=" ".join(_options(parser)),
                          cases=cases)
    return script if shell == "bash" else _ZSH_PREFIX + script


def print_completion(shell: str, parser: argparse.ArgumentParser) -> int:
    print(completion_script(shell, parser), end="")
    return 0
