#!/usr/bin/env python3
"""Rewrites a CUDA source into C++ for the nwgf CUDA emulator (NWGF_CUDA_EMULATE builds).

  NAME<<<grid, block[, shmem[, stream]]>>>(args)
      -> ::nwgf::emu::launch("NAME", FILE, LINE, grid, block, shmem, stream)(
             [](auto... a) { NAME(a...); })(args)
  __shared__ T name[N]...;      -> auto& name = ::nwgf::emu::shared_var<T[N]...>([] {});
  extern __shared__ T name[];   -> T* name = ::nwgf::emu::dynamic_shared<T>();
  grid_for(...)                 -> ::nwgf::emu::grid_cap(grid_for(...))

NAME may carry template arguments with commas (rng_fill_kernel<T, Normal>); template arguments
left to deduction work too, since the kernel is called from a generic lambda. Line numbers are
kept (a #line directive names the original file), so diagnostics point at the real source.

usage: rewrite_cu.py INPUT.cu OUTPUT.cpp [ORIGINAL_PATH_FOR_DIAGNOSTICS]
"""
import re
import sys


def fail(path, line, what):
    sys.stderr.write(f"{path}:{line}: rewrite_cu.py: {what}\n")
    sys.exit(1)


def code_mask(src):
    """For each character: True when it is code (not in a comment, string or char literal)."""
    mask = [True] * len(src)
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                mask[k] = False
            i = j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                mask[k] = False
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            for k in range(i, min(j + 1, n)):
                mask[k] = False
            i = j + 1
        else:
            i += 1
    return mask


def match_forward(src, mask, i, open_c, close_c):
    """Index just past the bracket closing the one at src[i] (parentheses only)."""
    depth = 0
    for j in range(i, len(src)):
        if not mask[j]:
            continue
        if src[j] == open_c:
            depth += 1
        elif src[j] == close_c:
            depth -= 1
            if depth == 0:
                return j + 1
    return -1


def kernel_name_start(src, mask, end):
    """Start of the (possibly qualified, templated) kernel name ending just before `end`."""
    j = end
    while j > 0 and src[j - 1] in " \t\n":
        j -= 1
    while True:
        if j > 0 and src[j - 1] == ">":  # template argument list: balance <>
            depth = 0
            k = j - 1
            while k >= 0:
                if mask[k]:
                    if src[k] == ">":
                        depth += 1
                    elif src[k] == "<":
                        depth -= 1
                        if depth == 0:
                            break
                k -= 1
            j = k
            while j > 0 and src[j - 1] in " \t":
                j -= 1
        k = j
        while k > 0 and (src[k - 1].isalnum() or src[k - 1] == "_"):
            k -= 1
        if k == j:
            return -1
        j = k
        if j >= 2 and src[j - 2 : j] == "::":
            j -= 2
            continue
        return j


def split_top_level(text):
    parts, depth, cur = [], 0, ""
    for c in text:
        if c in "([{<":
            depth += 1
        elif c in ")]}>":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
    parts.append(cur)
    return parts


def cap_grid_for(src):
    """grid_for(...) -> ::nwgf::emu::grid_cap(grid_for(...)): grid_for's kernels are grid-stride
    loops, so a small grid is equally valid and makes every loop run several rounds."""
    out, pos = [], 0
    mask = code_mask(src)
    for m in re.finditer(r"(?<![\w.:])grid_for\s*\(", src):
        s = m.start()
        if not mask[s] or s < pos:
            continue
        end = match_forward(src, mask, m.end() - 1, "(", ")")
        if end < 0:
            continue
        out.append(src[pos:s])
        out.append("::nwgf::emu::grid_cap(" + src[s:end] + ")")
        pos = end
    out.append(src[pos:])
    return "".join(out)


def rewrite_launches(src, path):
    out, pos = [], 0
    mask = code_mask(src)
    for m in re.finditer(r"<<<", src):
        s = m.start()
        if not mask[s] or s < pos:
            continue
        line = src.count("\n", 0, s) + 1
        name_start = kernel_name_start(src, mask, s)
        if name_start < 0:
            fail(path, line, "cannot find the kernel name before <<<")
        close = src.find(">>>", s + 3)
        if close < 0:
            fail(path, line, "no >>> after <<<")
        config = src[s + 3 : close]
        if len(split_top_level(config)) < 2:
            fail(path, line, "a launch needs at least grid and block")
        k = close + 3
        while k < len(src) and src[k] in " \t\n":
            k += 1
        if k >= len(src) or src[k] != "(":
            fail(path, line, "no argument list after >>>")
        args_end = match_forward(src, mask, k, "(", ")")
        if args_end < 0:
            fail(path, line, "unbalanced argument list")
        name = src[name_start:s].strip()
        # keep the newlines (line numbers stay those of the original)
        between = "\n" * src.count("\n", name_start, s) + src[close + 3 : k]
        name = " ".join(name.split())
        name_text = name
        out.append(src[pos:name_start])
        out.append(
            f'::nwgf::emu::launch("{name_text}", __FILE__, __LINE__, {config})'
            f"([](auto... nwgf_emu_a) {{ {name}(nwgf_emu_a...); }}){between}"
        )
        out.append(src[k:args_end])
        pos = args_end
    out.append(src[pos:])
    return "".join(out)


SHARED = re.compile(
    r"^(?P<indent>\s*)__shared__\s+(?:__align__\(\s*(?P<align>\d+)\s*\)\s+)?(?P<type>[^;=]+?)\s+"
    r"(?P<name>[A-Za-z_]\w*)\s*(?P<dims>(?:\[[^\]]+\]\s*)*);(?P<rest>\s*(?://.*)?)$"
)
EXTERN_SHARED = re.compile(
    r"^(?P<indent>\s*)extern\s+__shared__\s+(?:__align__\(\s*\d+\s*\)\s+)?(?P<type>[^;=]+?)\s+"
    r"(?:__align__\(\s*\d+\s*\)\s+)?(?P<name>[A-Za-z_]\w*)\s*\[\s*\]\s*;(?P<rest>\s*(?://.*)?)$"
)


def rewrite_shared(src, path):
    lines = src.split("\n")
    for i, text in enumerate(lines):
        if "__shared__" not in text or text.lstrip().startswith(("//", "*", "/*")):
            continue
        if "__shared__" not in text.split("//")[0]:
            continue
        m = EXTERN_SHARED.match(text)
        if m:
            lines[i] = (
                f"{m['indent']}{m['type']}* {m['name']} = "
                f"::nwgf::emu::dynamic_shared<{m['type']}>();{m['rest']}"
            )
            continue
        m = SHARED.match(text)
        if not m:
            fail(path, i + 1, "unsupported __shared__ declaration (one per line: "
                 "__shared__ T name[dims];)")
        dims = "".join(m["dims"].split())
        lines[i] = (
            f"{m['indent']}auto& {m['name']} = "
            f"::nwgf::emu::shared_var<{m['type']}{dims}>([] {{}});{m['rest']}"
        )
    return "\n".join(lines)


def main():
    if len(sys.argv) not in (3, 4):
        sys.stderr.write(__doc__)
        sys.exit(2)
    src_path, out_path = sys.argv[1], sys.argv[2]
    shown = sys.argv[3] if len(sys.argv) == 4 else src_path
    with open(src_path, encoding="utf-8") as f:
        src = f.read()
    body = rewrite_shared(rewrite_launches(cap_grid_for(src), shown), shown)
    if body.count("\n") != src.count("\n"):
        fail(shown, 1, "internal error: the rewrite changed the line count")
    text = f'#line 1 "{shown}"\n' + body
    try:
        with open(out_path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except OSError:
        pass
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
