#!/usr/bin/python3
"""Rewrites cascade's SystemVerilog kernels (hdl/*.sv) into the subset that yosys 0.23's
own front end (read_verilog -sv) parses, without changing what they compute.

What yosys 0.23 rejects in these sources (each checked with a one-line probe on Debian 12's
yosys 0.23, git sha1 7ce5011c24b) and what this script writes instead:

  construct                                   yosys 0.23 error          rewritten as
  `return expr;` in a function                syntax error              `fname = expr;`
  `module m import p::*; (...)`, `import`     syntax error              `p::name` for every
  in a package                                                          name of p in m
  `typedef enum logic [3:0] {A, B} e_t;`      cast `e_t'(x)` and        `localparam logic [3:0]
  with casts and enum-typed ports               enum types from a         A = 0, B = 1;`, e_t ->
                                                package fail              `logic [3:0]`, e_t'(x) -> (x)
  `int'(x)`                                   syntax error              `$signed(32'(x))`
  `x inside {a, b}`                           syntax error              `(x == a || x == b)`
  `function automatic void f(...)`            syntax error              `task automatic f(...)`
                                                                        (called as a statement)
  packed 2-D `logic [N-1:0][W-1:0] v`         syntax error              `logic [(N)*(W)-1:0] v`,
                                                                        v[i] -> v[(i)*(W) +: (W)]

Everything else (packages referenced as p::name, functions with output arguments,
unpacked arrays, size casts N'(x), unique case, generate for/if without `generate`,
.name port shorthand) yosys 0.23 reads as written. Comments are blanked (line numbers kept)
so that errors point at the original lines.

Usage: sv2yosys.py OUT_DIR FILE.sv...   (packages first, as for Verilator)
"""
import pathlib
import re
import sys

IDENT = r"[A-Za-z_][A-Za-z0-9_$]*"


def strip_comments(text):
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    return re.sub(r"/\*.*?\*/|//[^\n]*", blank, text, flags=re.S)


def literal_value(lit):
    m = re.fullmatch(r"\s*(?:\d+)?'([sS]?)([dDhHbBoO])([0-9a-fA-F_]+)\s*", lit)
    if m:
        base = {"d": 10, "h": 16, "b": 2, "o": 8}[m.group(2).lower()]
        return int(m.group(3).replace("_", ""), base)
    return int(lit.strip())


def enums_to_localparams(text, types):
    """typedef enum <base> {A = v, B, ...} name;  ->  localparam <base> A = v; ..."""
    def repl(m):
        base, body, name = m.group(1).strip(), m.group(2), m.group(3)
        types[name] = base
        out, value = [], -1
        for item in [s.strip() for s in body.split(",") if s.strip()]:
            if "=" in item:
                ident, lit = [s.strip() for s in item.split("=", 1)]
                value = literal_value(lit)
            else:
                ident, value = item, value + 1
            out.append(f"localparam {base} {ident} = {value};")
        # keep the line count: the enum spanned several lines
        return " ".join(out) + "\n" * m.group(0).count("\n")
    pattern = rf"typedef\s+enum\s+([^{{]*)\{{([^}}]*)\}}\s*({IDENT})\s*;"
    return re.sub(pattern, repl, text, flags=re.S)


def package_names(text):
    """Names a package declares: localparams, functions (enum constants are localparams)."""
    names = set(re.findall(rf"localparam\s+[^;=]*?\b({IDENT})\s*=", text))
    for m in re.finditer(r"\bfunction\b([^(;]*)\(", text):
        names.add(re.findall(IDENT, m.group(1))[-1])
    return names


def returns_to_assignments(text):
    out, fname = [], None
    for line in text.split("\n"):
        m = re.search(r"\bfunction\b([^(;]*)\(", line)
        if m:
            fname = re.findall(IDENT, m.group(1))[-1]
        if fname and re.search(r"\breturn\b", line):
            line = re.sub(r"\breturn\b\s*", f"{fname} = ", line)
        if re.search(r"\bendfunction\b", line):
            fname = None
        out.append(line)
    return "\n".join(out)


def void_functions_to_tasks(text):
    """function automatic void f(...); ... endfunction  ->  task automatic f(...); ... endtask"""
    out, in_void = [], False
    for line in text.split("\n"):
        if re.search(r"\bfunction\s+automatic\s+void\b", line):
            line = re.sub(r"\bfunction\s+automatic\s+void\b", "task automatic", line)
            in_void = True
        if in_void and re.search(r"\bendfunction\b", line):
            line = re.sub(r"\bendfunction\b", "endtask", line)
            in_void = False
        out.append(line)
    return "\n".join(out)


def balanced(text, start, open_ch, close_ch):
    """Index just past the bracket that closes the one at text[start]."""
    depth = 0
    for k in range(start, len(text)):
        if text[k] == open_ch:
            depth += 1
        elif text[k] == close_ch:
            depth -= 1
            if depth == 0:
                return k + 1
    raise ValueError("unbalanced brackets")


def top_level_colon(index):
    """Whether an index is a part select (a ':' outside nested brackets: v[a:b], not v[w[a:b]])."""
    depth = 0
    for ch in index:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == ":" and depth == 0:
            return True
    return False


def flatten_packed_2d(text):
    """logic [A:0][B:0] v  ->  logic [((A)+1)*((B)+1)-1:0] v;  v[i] -> v[(i)*((B)+1) +: ((B)+1)].
    An array of them (logic [A:0][B:0] v [N]) keeps its unpacked dimensions: v[j][i] ->
    v[j][(i)*((B)+1) +: ((B)+1)]. Names are per file (every kernel file holds one module); a
    part select of such an array is refused rather than guessed."""
    unpacked = r"(?:\s*\[[^\[\]]*\])*"
    decl = re.compile(r"\[([^\[\]:]+):\s*0\s*\]\s*\[([^\[\]:]+):\s*0\s*\]\s*((?:" + IDENT
                      + unpacked + r"\s*,\s*)*" + IDENT + unpacked + r")\s*([,;)])")
    widths = {}  # name -> (inner width, unpacked dimensions)

    def repl(m):
        outer, inner = f"({m.group(1).strip()})+1", f"({m.group(2).strip()})+1"
        for name, dims in re.findall("(" + IDENT + ")(" + unpacked + ")", m.group(3)):
            shape = (inner, dims.count("["))
            if widths.get(name, shape) != shape:  # per-name flattening would mix them up
                raise ValueError(f"packed 2-D array {name} declared twice with different "
                                 f"shapes ({widths[name][0]} and {inner}); rename one")
            widths[name] = shape
        return f"[({outer})*({inner})-1:0] {m.group(3)}{m.group(4)}"
    text = decl.sub(repl, text)
    for name, (width, skip) in widths.items():
        pos, out = 0, []
        for m in re.finditer(rf"(?<![\w$.]){re.escape(name)}\s*\[", text):
            if m.start() < pos:
                continue
            lb = m.end() - 1
            for _ in range(skip):  # the unpacked indices stay as they are
                lb = balanced(text, lb, "[", "]")
                while lb < len(text) and text[lb].isspace():
                    lb += 1
                if lb >= len(text) or text[lb] != "[":
                    lb = -1
                    break
            if lb < 0:  # a whole element (v[j]) or the declaration itself
                continue
            rb = balanced(text, lb, "[", "]")
            index = text[lb + 1:rb - 1]
            if top_level_colon(index):
                raise ValueError(f"part select of packed 2-D array {name}: {index}")
            out.append(text[pos:lb])
            out.append(f"[({index})*({width}) +: ({width})]")
            pos = rb
        out.append(text[pos:])
        text = "".join(out)
    return text


def casts_and_inside(text, types):
    for name, base in types.items():
        text = re.sub(rf"\b{name}\s*'\s*\(", "(", text)
        text = re.sub(rf"(?<![\w$:]){name}\b", base, text)
    # int'(x) -> $signed(32'(x))
    while True:
        m = re.search(r"\bint\s*'\s*\(", text)
        if not m:
            break
        end = balanced(text, m.end() - 1, "(", ")")
        text = text[:m.start()] + "$signed(32'" + text[m.end() - 1:end] + ")" + text[end:]
    def inside(m):
        items = [s.strip() for s in m.group(2).split(",")]
        return "(" + " || ".join(f"{m.group(1)} == {i}" for i in items) + ")"
    return re.sub(rf"({IDENT})\s+inside\s*\{{([^}}]*)\}}", inside, text)


def qualify_imports(text, packages):
    """module m import p::*; ( ... ) endmodule  ->  p::name for p's names inside m (and the
    same for `import p::*;` inside a package; `import p::name;` qualifies that name only)."""
    out, pos = [], 0
    for m in re.finditer(r"\b(module|package)\b(.*?)\bend\1\b", text, flags=re.S):
        out.append(text[pos:m.start()])
        body = m.group(0)
        imported = re.findall(rf"\bimport\s+({IDENT})::(\*|{IDENT})\s*[;,]", body)
        body = re.sub(rf"\bimport\s+{IDENT}::(\*|{IDENT})\s*[;,]", lambda x: " " * len(x.group(0)),
                      body)
        for pkg, item in imported:  # import p::*; or import p::name;
            names = packages[pkg] if item == "*" else {item}
            for name in sorted(names, key=len, reverse=True):
                body = re.sub(rf"(?<![\w$.:'`]){re.escape(name)}\b", f"{pkg}::{name}", body)
        out.append(body)
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    out_dir = pathlib.Path(argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    sources = [(pathlib.Path(p), strip_comments(pathlib.Path(p).read_text())) for p in argv[2:]]
    types, packages, stage = {}, {}, []
    for path, text in sources:                 # enums first: their names are global types
        text = enums_to_localparams(text, types)
        for m in re.finditer(rf"\bpackage\s+({IDENT})\s*;(.*?)\bendpackage\b", text, flags=re.S):
            packages[m.group(1)] = package_names(m.group(2))
        stage.append((path, text))
    for path, text in stage:
        try:
            text = returns_to_assignments(text)
            text = void_functions_to_tasks(text)
            text = casts_and_inside(text, types)
            text = flatten_packed_2d(text)
            text = qualify_imports(text, packages)
        except ValueError as e:
            sys.exit(f"sv2yosys: {path}: {e}")
        (out_dir / path.name).write_text(text)


if __name__ == "__main__":
    main(sys.argv)
