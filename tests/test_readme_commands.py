"""Every shell command of README.md and of the manual (docs/**/*.md), checked, so that none
can rot.

One test per command of their ```bash blocks and indented `python ...` lines, named by its
document, its line and the class of the one rule of RULES it matches (none or several: it
fails):
- run: cheap and offline, so it runs for real and must print what the README promises;
- check: needs hours, data, GPUs, a cluster or network, so it is checked statically: the
  repository paths it names exist, its config loads and takes its `--cfg-options`, and its
  arguments parse with the tool's own parser;
- skip: cannot run here, for the reason its rule gives; what is cheap to check still is.
"""
import contextlib
import functools
import glob
import io
import itertools
import os
import os.path as osp
import re
import runpy
import shlex
import subprocess
import sys
import tempfile
from typing import Dict, List, NamedTuple, Optional
from unittest import mock

import pytest
from mmengine.config import Config

from simmim_mm.package_files import TOOLS_DIR

from conftest import REPO_ROOT

README = osp.join(REPO_ROOT, 'README.md')
DOCUMENTS = ['README.md'] + sorted(  # the manual's pages, read at run time
    osp.relpath(path, REPO_ROOT)
    for path in glob.glob(osp.join(REPO_ROOT, 'docs', '**', '*.md'), recursive=True))
RUN, CHECK, SKIP = 'run', 'check', 'skip'
SUBSTITUTION = re.compile(r'''\$\(((?:[^()'"]|'[^']*'|"[^"]*")*)\)''')  # $(...), unnested
ONE_WORD = re.compile(r'<[A-Za-z][\w .-]*>|' + SUBSTITUTION.pattern)  # `<that path>`, $(...)
VARIABLE = re.compile(r'\$\{(\w+)\}|\$(\w+)')
ASSIGNMENT = re.compile(r'[A-Za-z_]\w*=')
CHOICES = re.compile(r'[\w.-]+(\|[\w.-]+)+')  # a usage line's `auto|rgb|each`


class Command(NamedTuple):
    """One command of a document: its words with quotes removed, $NAME and $(...)
    unexpanded."""
    document: str  # README.md, docs/en/...
    line: int
    part: int  # its place on the line: `git clone ... && cd ...` is 1, 2
    env: List[str]  # NAME=value words before the command
    words: List[str]
    variables: Dict[str, str]  # set above it in its block
    below: List['Command']  # the commands after it in its block
    error: Optional[str]  # an unbalanced quote

    @property
    def text(self) -> str:
        """What the rules match: the command without its NAME=value prefix."""
        return ' '.join(self.words)

    def __str__(self):
        return f'{self.document}:{self.line}: {" ".join(self.env + self.words)}'


def readme_blocks(document='README.md'):
    """(language, [(line number, line)]) of a document's fenced blocks (indented fences of list
    items too) and, as 'bash', of its indented lines that start with `python ` / `bash `;
    backslash-continued lines joined."""
    with open(osp.join(REPO_ROOT, document), encoding='utf-8') as f:
        lines = f.read().splitlines()
    blocks, body, fence = [], None, None
    for number, line in enumerate(lines, 1):
        opening = re.match(r'\s*```(\w*)\s*$', line)
        if fence is not None and opening and not opening.group(1):
            fence = None
        elif fence is not None and body and body[-1][1].endswith('\\'):  # a continued line
            body[-1] = (body[-1][0], body[-1][1][:-1] + ' ' + line.strip())
        elif fence is not None:
            body.append((number, line.rstrip()))
        elif opening:
            fence, body = opening.group(1), []
            blocks.append((fence, body))
        elif re.match(r' {4,}(python|bash) ', line) and not lines[number - 2].strip():
            blocks.append(('bash', [(number, line)]))
    return blocks


def commands_of(body, document='README.md') -> List[Command]:
    """The commands of a block, split at && || ; |, each with the variables set above it;
    `<placeholder>`s and $(...)s stay one word each, as written (quoted for shlex). A shell
    loop's `for NAME in A B ...` sets NAME to A for the commands of its body; `do` and `done`
    are no commands."""
    commands, variables = [], {}
    for number, text in body:
        text = re.sub(r'\[(--[^][]*)\]', r'\1', text)  # a usage line's optional [--seed 0]
        try:
            words = shlex.split(ONE_WORD.sub(lambda m: shlex.quote(m[0]), text), comments=True)
            error = None
        except ValueError as e:  # No closing quotation
            words, error = text.split(), str(e)
        pieces = [
            list(piece) for separator, piece in itertools.groupby(
                words, lambda word: word in ('&&', '||', ';', '|')) if not separator
        ]
        pieces = [
            piece[1:] if piece[0] == 'do' else piece for piece in pieces
            if piece not in (['do'], ['done'])
        ]
        for part, piece in enumerate(pieces, 1):
            prefix = len(list(itertools.takewhile(ASSIGNMENT.match, piece)))
            prefix = 0 if prefix == len(piece) else prefix  # NAME=value alone: for lines below
            commands.append(
                Command(document, number, part, piece[:prefix], piece[prefix:], dict(variables), [],
                        error))
            if piece[0] == 'for' and len(piece) > 3 and piece[2] == 'in':
                variables[piece[1]] = piece[3]
            assigned = piece[1:] if piece[0] == 'export' else piece
            if prefix == 0 and all(map(ASSIGNMENT.match, assigned)):
                variables.update(word.split('=', 1) for word in assigned)
    for k, command in enumerate(commands):
        command.below.extend(commands[k + 1:])
    return commands


@functools.lru_cache(maxsize=None)
def substitute(inner: str) -> str:
    """What `$(python ...)` prints, run with this .venv's python."""
    argv = shlex.split(inner)
    assert argv[0] == 'python', f'$({inner}): the test runs only python in $(...)'
    result = subprocess.run([sys.executable, *argv[1:]],
                            cwd=REPO_ROOT,
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, f'$({inner}) failed:\n{result.stderr}'
    return result.stdout.rstrip('\n')


def expand(word: str, variables: Dict[str, str]) -> str:
    """`word` with $NAME (from its block's NAME=value lines) and $(...) replaced."""

    def variable(match):
        name = match[1] or match[2]
        assert name in variables, f'${name} is not set above this command in its block'
        return expand(variables[name], variables)

    return SUBSTITUTION.sub(lambda m: substitute(m[1]), VARIABLE.sub(variable, word))


def read(path: str) -> str:
    with open(osp.join(REPO_ROOT, path), encoding='utf-8') as f:
        return f.read()


def run(command: Command, argv: List[str]) -> str:
    """stdout of the command run for real, with this .venv's python, offline, on the CPU."""
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='', HF_HUB_OFFLINE='1')
    env.update(expand(word, command.variables).split('=', 1) for word in command.env)
    argv = [sys.executable if argv[0] == 'python' else argv[0], *argv[1:]]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f'{command}\nexited {result.returncode}:\n{result.stderr}'
    return result.stdout


def check_repository_paths(argv: List[str]):
    """Each repository path named (`--opt=path`, `key=path` too) exists: those start with
    configs/ or tools/ (placeholders do not), through $TOOLS too, a link to tools/."""
    for path in {piece for word in argv for piece in (word, word.split('=', 1)[-1]) if piece}:
        if osp.isabs(path) or os.getcwd() == REPO_ROOT:
            if osp.relpath(osp.realpath(path), REPO_ROOT).startswith(('configs/', 'tools/')):
                assert osp.exists(path), f'{path} does not exist in the repository'


def check_loop(command: Command, argv: List[str]):
    """`for NAME in VALUES`: a command of its body uses $NAME (the checks there see the first
    value)."""
    below = '\n'.join(str(c) for c in command.below)
    assert len(argv) > 3 and re.search(r'\$\{?' + argv[1] + r'\b', below), (
        f'{command}\n${argv[1]} is set but no command below it in its block uses it')


def check_used_below(command: Command, argv: List[str]):
    """Each variable set or exported is used below, in a command or the script it runs: a
    setting nobody reads is a typo."""
    below = [str(c) for c in command.below] + [
        read(c.words[1]) for c in command.below if c.words[0] == 'bash' and osp.isfile(c.words[1])
    ]
    for name in [word.split('=', 1)[0] for word in command.words if ASSIGNMENT.match(word)]:
        assert re.search(
            r'\$\{?' + name + r'\b',
            '\n'.join(below)), (f'${name} is set but no command below it in its block uses it')


def check_shell_script(command: Command, argv: List[str]):
    """The script exists, parses (`bash -n`) and reads every NAME=value set before it."""
    script = command.words[1]
    assert osp.isfile(script), f'{script} does not exist'
    result = subprocess.run(['bash', '-n', script], capture_output=True, text=True)
    assert result.returncode == 0, f'bash -n {script}: {result.stderr}'
    for name in [word.split('=', 1)[0] for word in command.env]:
        assert re.search(r'\$\{?' + name + r'\b', read(script)), f'{script} never reads {name}'


def check_cfg_options(config: str, options: dict):
    """The config (a file, or `package::path`) loads; each --cfg-options key's parent exists in
    it (a new leaf is fine, a typo'd parent is not, but for an `init_cfg`, which every
    MMEngine module takes: continued pretraining's `model.init_cfg.*`); the options merge as
    in tools/train.py."""
    try:
        cfg = (
            Config.fromstring(f'_base_ = {config!r}\n', '.py')
            if '::' in config else Config.fromfile(config))
    except (FileNotFoundError, ValueError) as error:
        pytest.fail(f'the config {config} does not load: {str(error)[:300]}')
    for key in options:
        node, parts = cfg.to_dict(), key.split('.')
        for depth, part in enumerate(parts[:-1], 1):
            try:
                node = node[int(part)] if isinstance(
                    node, list) else (node.get(part) or {} if part == 'init_cfg' else node[part])
            except (KeyError, IndexError, TypeError, ValueError):
                pytest.fail(f'--cfg-options {key}: {config} has no {".".join(parts[:depth])}')
        assert isinstance(node, (dict, list)), f'--cfg-options {key}: no dict in {config}'
    cfg.merge_from_dict(options)


load_tool = functools.lru_cache(maxsize=None)(runpy.run_path)  # a tool's globals, not __main__


def check_tool_arguments(command: Command, script: str, args: List[str]):
    """The tool's own parse_args accepts `args`; the config they name (unless a placeholder,
    CONFIG) loads and takes their --cfg-options; tools/train.py's build_config builds it."""
    assert osp.isfile(script), f'{script} does not exist'
    tool, usage = load_tool(osp.realpath(script)), io.StringIO()
    assert 'parse_args' in tool, f'{script} has no parse_args: check it another way'
    # patch.dict restores os.environ: the train / test parsers set LOCAL_RANK
    with mock.patch.object(sys, 'argv', [script, *args]), mock.patch.dict(os.environ), \
            contextlib.redirect_stderr(usage):
        try:
            parsed = tool['parse_args']()
        except SystemExit as error:
            pytest.fail(f'{command}\n{script} rejects {args} (exit {error.code}):\n'
                        f'{usage.getvalue()}')
    config = getattr(parsed, 'config', None) or ''
    if '::' in config or osp.isfile(config):
        check_cfg_options(config, getattr(parsed, 'cfg_options', None) or {})
        if 'build_config' in tool:
            tool['build_config'](parsed)
    assert not config.startswith('configs/') or osp.isfile(config), f'{config} does not exist'


def check_python_tool(command: Command, argv: List[str]):
    """`python TOOL ARGS` with the first choice of each `auto|rgb|each`, then each other one."""
    first = [word.split('|')[0] if CHOICES.fullmatch(word) else word for word in argv]
    check_tool_arguments(command, first[1], first[2:])
    for k, word in enumerate(argv):
        for choice in word.split('|')[1:] if CHOICES.fullmatch(word) else []:
            check_tool_arguments(command, first[1], first[2:k] + [choice] + first[k + 1:])


def check_launcher(command: Command, argv: List[str]):
    """`dist_train.sh CONFIG GPUS ARGS` (torchrun) and `slurm_train.sh PARTITION JOB CONFIG
    WORK_DIR ARGS` (srun) run tools/train.py CONFIG ARGS: those must parse."""
    check_shell_script(command, argv)
    if argv[1] == 'tools/dist_train.sh':
        assert argv[3].isdigit(), f'GPUS is {argv[3]!r}, not a number'
        args = [argv[2], '--launcher', 'pytorch', *argv[4:]]
    else:
        args = [argv[4], f'--work-dir={argv[5]}', '--launcher=slurm', *argv[6:]]
    check_tool_arguments(command, 'tools/train.py', args)


def check_plot_curves(command: Command, argv: List[str]):
    """plot_curves.py parses inside main(): run where its inputs do not exist, it must fail on
    the missing input, not with argparse's usage (exit 2)."""
    with tempfile.TemporaryDirectory() as empty:
        result = subprocess.run(
            [sys.executable, osp.join(REPO_ROOT, argv[1]), *argv[2:]],
            cwd=empty,
            capture_output=True,
            text=True,
            timeout=300)
    assert 'usage:' not in result.stderr and result.returncode != 2, (
        f'{command}\nits arguments are rejected:\n{result.stderr}')
    assert result.returncode != 0 and argv[2] in result.stderr, (
        f'{command}\nshould fail on the missing {argv[2]}:\n{result.stdout}{result.stderr}')


def check_gpu_check(command: Command, argv: List[str]):
    """bash tools/gpu_check.sh VERB ARGS: the script handles VERB and each option (case labels);
    its usage line for VERB lists those options and as many positional arguments."""
    check_shell_script(command, argv)
    text, (verb, *args) = read(argv[1]), argv[2:]
    usage = re.search(rf'^#\s+bash tools/gpu_check\.sh {verb} ([^#\n]*)', text, re.M)
    assert usage and re.search(rf'^\s*{verb}\)', text, re.M), f'gpu_check.sh has no `{verb}`'
    options = dict(re.findall(r'\[(--[\w-]+)( [^]]+)?\]', usage[1]))  # name: its value
    for option in [arg for arg in args if arg.startswith('-')]:
        assert option in options and re.search(rf'^\s*{re.escape(option)}\)', text,
                                               re.M), (f'`{verb}` takes no {option}: {usage[0]}')
    values = [k + 1 for k, arg in enumerate(args) if options.get(arg)]
    given = [arg for k, arg in enumerate(args) if not arg.startswith('-') and k not in values]
    expected = re.sub(r'\[[^]]*\]', '', usage[1]).split()
    assert len(given) == len(expected), f'`{verb}` takes {expected}, not {given}: {usage[0]}'


def check_substituted_variable(command: Command, argv: List[str]):
    """NAME=$(...): the $(...) prints one line, a path that exists if it prints a path ($TOOLS:
    the package's tools folder), and a command below uses $NAME."""
    for name, value in (word.split('=', 1) for word in command.words):
        printed = expand(value, command.variables)
        assert printed and '\n' not in printed, f'{value} printed {printed!r}'
        assert not osp.isabs(printed) or osp.exists(printed), f'{value}: no {printed}'
        assert name != 'TOOLS' or printed == TOOLS_DIR, f'$TOOLS is not {TOOLS_DIR}'
    check_used_below(command, argv)


def check_model_zoo(command: Command, argv: List[str]):
    """list: one line per model of the metafile, whose config exists; info NAME: that model;
    table: what README.md's model-zoo table holds (the README says it is generated)."""
    from simmim_mm.checkpoint.model_zoo import load_models
    output, names = run(command, argv), [model['Name'] for model in load_models()]
    if argv[2] == 'list':
        assert [line.split()[0] for line in output.splitlines()] == names
        for config in (line.split()[-1] for line in output.splitlines()):
            assert not config.startswith('configs/') or osp.isfile(osp.join(
                REPO_ROOT, config)), f'the model zoo names a missing {config}'
    elif argv[2] == 'info':
        assert argv[3] in names and argv[3] in output, f'{argv[3]} is no model of the metafile'
    else:
        assert output.strip() and output.strip() in read(README), (
            "README.md's model-zoo table is not what `tools/model_zoo.py table` prints")


def check_python_c(command: Command, argv: List[str]):
    """Prints something; a line printing torch.__version__ prints this .venv's torch."""
    output = run(command, argv).split()
    assert output, f'{command} printed nothing'
    if 'torch.__version__' in argv[2]:
        import torch
        assert output[0] == torch.__version__ and output[-1] in ('True', 'False')


def check_skipped(command: Command, argv: List[str]):
    """What is cheap to check of a skipped command: pip's extras are setup.py's, make's target
    the Makefile's; a script exists, parses, reads its settings and handles its --flags."""
    for word in argv if argv[0] == 'pip' else []:
        extras = re.fullmatch(r'\.\[([\w,-]+)\]', word)
        for extra in extras[1].split(',') if extras else []:
            assert re.search(rf"['\"]{extra}['\"]\s*:",
                             read('setup.py')), (f'setup.py has no extra {extra}')
    if argv[0] == 'make':
        assert re.search(rf'^{argv[1]}:', read('Makefile'), re.M), f'the Makefile has no {argv[1]}'
    if argv[0] == 'bash':
        check_shell_script(command, argv)
        for flag in argv[2:]:
            assert f'= {flag}' in read(argv[1]), f'{argv[1]} does not handle {flag}'


def check_model_zoo_download(command: Command, argv: List[str]):
    """The arguments parse, and the model is one that `tools/model_zoo.py list` prints."""
    check_python_tool(command, argv)
    listed = substitute('python tools/model_zoo.py list').splitlines()
    assert argv[3] in [line.split()[0] for line in listed
                       ], (f'{argv[3]} is not in the output of `python tools/model_zoo.py list`')


def check_mim(command: Command, argv: List[str]):
    """(mim itself runs from an installed wheel elsewhere.) It names simmim_mm, and the config
    of `mim train / test simmim_mm CONFIG` is found as mim finds it: a path that exists, else
    the one file of that name in the package's configs."""
    assert 'simmim_mm' in argv[2:], f'{command} does not name simmim_mm'
    check_repository_paths(argv)
    if argv[1] in ('train', 'test') and len(argv) > 3 and not osp.isfile(argv[3]):
        found = glob.glob(f'configs/**/{osp.basename(argv[3])}', recursive=True)
        assert len(found) == 1, f'mim finds {len(found)} configs named {argv[3]}: {found}'


TOOL = r'^python (tools|\$TOOLS)/'
RULES = [  # (pattern for the command without its NAME=value prefix, class, check, reason)
    (TOOL + r'model_zoo\.py (list|table|info \S+)$', RUN, check_model_zoo, 'offline, seconds'),
    (r'^python -c import [\w., ]+; print\(.*\)$', RUN, check_python_c, 'imports, prints'),
    (r'^[A-Za-z_]\w*=\$\(.*\)$', RUN, check_substituted_variable, 'a cheap $(...)'),
    (r'^[A-Za-z_]\w*=[^\s$]*$', CHECK, check_used_below, 'a value for the lines below'),
    (r'^export( [A-Za-z_]\w*=\S+)+$', CHECK, check_used_below, 'settings for the lines below'),
    (r'^for [A-Za-z_]\w* in \S', CHECK, check_loop, "a shell loop: its body's commands"),
    (TOOL + r'(train|test)\.py ', CHECK, check_python_tool, 'hours on data and GPUs'),
    (r'^python \$(MMDET|MMSEG|MMPRETRAIN)/\.mim/tools/(train|test)\.py ', CHECK, check_python_tool,
     "an OpenMMLab package's own tool: hours on COCO, ADE20K or ImageNet"),
    (r'^bash tools/dist_train\.sh ', CHECK, check_launcher, 'torchrun over GPUs, for hours'),
    (r'^bash tools/slurm_train\.sh ', CHECK, check_launcher, 'needs a Slurm cluster'),
    (TOOL + r'convert_checkpoint\.py ', CHECK, check_python_tool, 'needs a checkpoint'),
    (TOOL + r'dataset_converters/images_to_shards\.py ', CHECK, check_python_tool,
     'needs a dataset; tests/test_datasets/test_shards.py runs it'),
    (TOOL + r'dataset_converters/split_dataset\.py ', CHECK, check_python_tool,
     "needs the user's images; tests/test_datasets/test_split.py runs it"),
    (TOOL + r'dataset_converters/prepare_elpv\.py ', CHECK, check_python_tool,
     'needs `pip install elpv-dataset` (90 MB, CC BY-NC-SA 4.0 data); '
     'tests/test_tools/test_prepare_elpv.py runs it on a fake ELPV tree'),
    (TOOL + r'benchmark\.py ', CHECK, check_python_tool, 'minutes of timed steps, or a GPU'),
    (TOOL + r'visualize_reconstruction\.py ', CHECK, check_python_tool, 'needs a checkpoint'),
    (TOOL + r'analysis/plot_curves\.py ', CHECK, check_plot_curves, "needs a run's JSON logs"),
    (TOOL + r'analysis/dataset_stats\.py ', CHECK, check_python_tool,
     'needs a folder of images; tests/test_datasets/test_statistics.py runs it'),
    (TOOL + r'analysis/distill_evidence\.py ', CHECK, check_python_tool,
     'an hour of CPU training per student seed'),
    (TOOL + r'analysis/elpv_study\.py ', CHECK, check_python_tool,
     'an hour of CPU training per seed; tests/test_tools/test_elpv_study.py runs it at toy size'),
    (TOOL + r'analysis/knn_probe\.py ', CHECK, check_python_tool,
     'needs a pretraining checkpoint and the ELPV data; '
     'tests/test_evaluation/test_knn_probe.py runs it on generated cells'),
    (r'^bash tools/gpu_check\.sh ', CHECK, check_gpu_check, 'network, or a GPU machine'),
    (r'^git clone ', SKIP, check_skipped, 'needs network; these tests run inside the clone'),
    (r'^cd \S+$', SKIP, check_skipped, 'enters the clone, where these tests already run'),
    (r'^pip install ', SKIP, check_skipped, 'needs network; .venv is installed (make setup)'),
    (r'^make setup$', SKIP, check_skipped, 'the set-up: minutes, and .venv is what it made'),
    (r'^make demo$', SKIP, check_skipped, 'minutes of set-up and training'),
    (r'^make test$', SKIP, check_skipped, 'the test suite itself, which CI runs'),
    (r'^make lint$', SKIP, check_skipped, 'CI runs it (.ci/run) before the tests'),
    (r'^make format$', SKIP, check_skipped, 'rewrites the files these tests read'),
    (r'^pre-commit install$', SKIP, check_skipped, 'installs a git hook: changes the clone'),
    (r'^source \.venv/bin/activate$', SKIP, check_skipped, "changes the caller's shell"),
    (r'^(srun|sbatch|scontrol|squeue) ', SKIP, check_skipped, 'needs a Slurm cluster'),
    (r'^bash tools/build_mmcv\.sh --install$', SKIP, check_skipped,
     "a 15 min compile; tests/test_packaging/test_build_mmcv.py tests it"),
    (TOOL + r'model_zoo\.py download ', SKIP, check_model_zoo_download, 'needs network'),
    (r'^mim ', SKIP, check_mim, 'needs simmim_mm installed from a wheel, not editable as in '
     '.venv: tests/test_packaging/test_installed_wheel.py runs mim'),
]
COMMANDS = [
    command for document in DOCUMENTS for language, body in readme_blocks(document)
    if language == 'bash' for command in commands_of(body, document)
]


def matching_rules(command: Command):
    return [rule for rule in RULES if re.search(rule[0], command.text)]


def command_id(command: Command) -> str:
    rules = matching_rules(command)
    cls = rules[0][1] if len(rules) == 1 else 'unclassified'
    return (f'{command.document}:L{command.line}' +
            (f'.{command.part}' if command.part > 1 else '') + f'-{cls}')


def test_readme_commands_are_found():
    """A broken extraction would leave nothing to check: the README's own commands (its two
    make targets, as CI runs them) and the manual's."""
    assert len(COMMANDS) >= 30 and any(c.env for c in COMMANDS)
    assert any(c.text.startswith('python tools/train.py configs/') for c in COMMANDS)
    readme = [c.text for c in COMMANDS if c.document == 'README.md']
    assert 'make demo' in readme and 'make test' in readme
    assert 'docs/en/get_started/install.md' in DOCUMENTS
    manual = {c.document for c in COMMANDS if c.document.startswith('docs/')}
    assert len(manual) >= 8, manual


@pytest.mark.parametrize('command', COMMANDS, ids=[command_id(c) for c in COMMANDS])
def test_readme_command(command, monkeypatch, tmp_path):
    assert command.error is None, f'{command}\ncannot be read: {command.error}'
    rules = matching_rules(command)
    assert rules, (f'{command}\nmatches no rule of tests/test_readme_commands.py: add one that '
                   'says whether it runs, is checked or is skipped, and why')
    assert len(rules) == 1, f'{command}\nmatches several rules: {[r[0] for r in rules]}'
    _, cls, check, reason = rules[0]
    # $TOOLS commands run "from any folder": here from an empty one, with the python files
    # their document writes out (my_config.py); the others from the repository.
    monkeypatch.chdir(tmp_path if '$TOOLS' in command.text else REPO_ROOT)
    for language, body in readme_blocks(command.document) if '$TOOLS' in command.text else []:
        name = re.match(r'#\s*([\w.-]+\.py)\b', body[0][1]) if body else None
        if language == 'python' and name:
            (tmp_path / name[1]).write_text('\n'.join(line for _, line in body) + '\n')
    argv = [expand(word, command.variables) for word in command.words]
    if cls != SKIP:
        check_repository_paths(argv)
    check(command, argv)
    if cls == SKIP:
        pytest.skip(f'{command}: {reason}')
