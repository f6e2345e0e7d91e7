"""What the pipeline prints, and the tools it runs as subprocesses."""
import os
import os.path as osp
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import Dict, List, Optional, Sequence

from detnas_mm.utils.paths import tools_root


def tool_command(name: str, *args) -> List[str]:
    """``python <shipped tools>/<name> args...``."""
    return [sys.executable, osp.join(tools_root(), name), *map(str, args)]


def distributed_tool_command(processes: int, name: str, *args) -> List[str]:
    """A tool launched as ``processes`` processes by torch's launcher
    (gloo on CPU), on a free local port.

    The launch of ``tools/dist_*.sh``, but with this interpreter: the
    scripts run whichever ``python`` is first on PATH, which need not be
    the one running the pipeline (a virtual environment not activated).
    """
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    return [sys.executable, '-m', 'torch.distributed.run',
            f'--nproc_per_node={processes}', f'--master_port={port}',
            osp.join(tools_root(), name), *map(str, args), '--launcher',
            'pytorch']


class Console:
    """Stage headers, filtered tool output and where things go."""

    # Lines of the tools' logs worth showing live: progress with ETA,
    # metrics, search progress, warnings and errors. Everything goes to the
    # stage log.
    SHOW = re.compile(r'Iter\(train\).*eta:|bbox_mAP:|mAP:|accuracy/top1|'
                      r'Search gen|Search done|Error|Traceback|'
                      r'Saving checkpoint|cannot rank')
    HIDE = re.compile(r'Build settings|Iter\((test|val)\)')

    def __init__(self, num_stages: int):
        self.num_stages = num_stages
        self.start = time.time()
        self.times: Dict[str, float] = {}
        # The console of the pipeline's start: a thread that reports while
        # another sends in-process work to a log (output_to) still prints
        # here.
        self.stream = sys.stdout

    def say(self, text: str = ''):
        # One write per line: retraining threads report side by side.
        self.stream.write(text + '\n')
        self.stream.flush()

    def header(self, index: int, name: str, what: str, out_dir: str):
        elapsed = time.time() - self.start
        self.say(f'\n=== [{index}/{self.num_stages}] {name}: {what}\n'
                 f'    outputs: {out_dir}   (pipeline time so far '
                 f'{elapsed / 60:.1f} min)')

    def skip(self, out_dir: str):
        self.say(f'    done already ({out_dir}/done.json): skipped')

    def run(self, cmd: Sequence[str], log_file: str, label: str,
            env: Optional[dict] = None) -> float:
        """Run a tool, echo its progress lines, keep its whole log.

        ``env`` adds to (or overrides) this process's environment.
        """
        self.say(f'    $ {" ".join(cmd)}\n    log: {log_file}')
        start = time.time()
        env = dict(os.environ, PYTHONUNBUFFERED='1', **(env or {}))
        with open(log_file, 'a') as log:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True,
                                    env=env)
            for line in proc.stdout:
                log.write(line)
                if self.SHOW.search(line) and not self.HIDE.search(line):
                    self.say('    | ' + _shorten(line.rstrip()))
            code = proc.wait()
        seconds = time.time() - start
        self.times[label] = self.times.get(label, 0.0) + seconds
        if code != 0:
            with open(log_file) as f:
                tail = f.readlines()[-30:]
            raise RuntimeError(f'{label} failed (exit {code}); last lines of '
                               f'{log_file}:\n' + ''.join(tail))
        return seconds


@contextmanager
def output_to(log_file: str):
    """Send what in-process work prints (mmengine's logger, pycocotools)
    to a log file instead of the console."""
    with open(log_file, 'a') as log, redirect_stdout(log), \
            redirect_stderr(log):
        yield


def _shorten(line: str, width: int = 150) -> str:
    # mmengine log lines start with a long timestamp/logger prefix.
    line = re.sub(r'^\d+/\d+ \d+:\d+:\d+ - mmengine - INFO - ', '', line)
    return line if len(line) <= width else line[:width - 3] + '...'
