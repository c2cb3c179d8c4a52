"""What the comparison scripts share: the machine they ran on, wrk's output,
percentiles, wrapped paragraphs, and writing a section of docs/PERFORMANCE.md
between its markers (standard library only)."""

import datetime
import os
import re
import subprocess
import sys
import textwrap


def run_text(*command):
    """The first line a command prints, or "" when it cannot run."""
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else ""


def machine(path):
    """Cores, CPU model, memory and the disk holding `path`."""
    model = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    disk = " ".join(run_text("findmnt", "-n", "-o", "SOURCE,FSTYPE", "-T", path).split())
    return f"{os.cpu_count()} cores ({model}), {mem_gib:.0f} GiB RAM, data on {disk or 'unknown disk'}"


def load_average():
    return open("/proc/loadavg").read().split()[0]


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def quarry_revision():
    rev = run_text("git", "rev-parse", "--short", "HEAD")
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "src", "Cargo.toml", "Cargo.lock"],
                           check=False).returncode
    return f"{rev} with uncommitted changes to src" if dirty else rev


def para(text, indent=""):
    """`text` as one paragraph wrapped at 80 columns."""
    return textwrap.fill(" ".join(text.split()), 80, initial_indent=indent,
                         subsequent_indent=" " * len(indent), break_on_hyphens=False)


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return 0.0
    return sorted_values[round((len(sorted_values) - 1) * p)]


def wrk_ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def wrk(out, what):
    """Requests, requests/s, p50 and p99 (ms) from wrk's `--latency` output
    with a script that prints `non-2xx or socket errors: N`; exits when any
    request failed."""
    errors = re.search(r"non-2xx or socket errors: (\d+)", out)
    if errors is None or int(errors.group(1)) or "Socket errors" in out:
        sys.exit(f"{what}: requests failed\n{out}")
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": wrk_ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1)),
        "p99": wrk_ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1)),
    }


def write_section(path, name, title, section, after=None):
    """Replaces the text between `<!-- compare:NAME:begin -->` and its end
    marker in `path`. Without the markers, adds a `## TITLE` section holding
    them: before the first heading that follows the `compare:AFTER` section
    (its notes included), or at the end."""
    begin, end = f"<!-- compare:{name}:begin -->", f"<!-- compare:{name}:end -->"
    doc = open(path).read()
    section = section.rstrip("\n") + "\n"
    if begin in doc and end in doc:
        head, rest = doc.split(begin, 1)
        doc = head + begin + "\n" + section + end + rest.split(end, 1)[1]
    else:
        block = f"## {title}\n\n{begin}\n{section}{end}\n"
        previous = doc.find(f"<!-- compare:{after}:end -->") if after else -1
        at = doc.find("\n## ", previous) + 1 if previous >= 0 else 0
        if at > 0:
            doc = doc[:at] + block + "\n" + doc[at:]
        else:
            doc = doc.rstrip("\n") + "\n\n" + block
    open(path, "w").write(doc)


if __name__ == "__main__":
    # report.py DOC NAME TITLE SECTION_FILE: writes a section made by a shell script.
    doc_path, section_name, section_title, section_file = sys.argv[1:5]
    write_section(doc_path, section_name, section_title, open(section_file).read())
