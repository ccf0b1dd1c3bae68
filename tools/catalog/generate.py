#!/usr/bin/env python3
"""Generate ocdoctor's OpenOCD catalog (DATA files) from local bare git mirrors.

Reads OpenOCD sources with `git ls-tree` / `git cat-file` (no checkout) and writes facts and
message strings only:

  rules/catalog/sources.tsv        label, repo, ref, commit
  rules/catalog/messages.tsv       every printed message format, per file and source
  rules/versions/cfg_files.tsv     every file under tcl/, per source
  rules/versions/usb_ids.tsv       USB VID:PID known to udev rules, drivers and interface cfgs
  rules/versions/commands.tsv      registered commands and Tcl procs
  rules/versions/flash_drivers.tsv flash driver names
  rules/versions/stm32_device_ids.tsv  STM32 device ids known to the stm32 flash drivers

Standard library only; the output depends on nothing but the mirrors' commits, so two runs
give byte-identical files. See tools/catalog/README.md.
"""

import argparse
import collections
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GENERATOR = "tools/catalog/generate.py"

# label, env var of the git dir, default mirror folder, repo name, ref (None: HEAD)
SOURCES = [
    ("0.10.0", "UPSTREAM", "openocd-org+openocd", "openocd-org/openocd", "v0.10.0"),
    ("0.11.0", "UPSTREAM", "openocd-org+openocd", "openocd-org/openocd", "v0.11.0"),
    ("0.12.0", "UPSTREAM", "openocd-org+openocd", "openocd-org/openocd", "v0.12.0"),
    ("master", "UPSTREAM", "openocd-org+openocd", "openocd-org/openocd", None),
    ("espressif", "ESPRESSIF", "espressif+openocd-esp32", "espressif/openocd-esp32", None),
    ("raspberrypi", "RASPBERRYPI", "raspberrypi+openocd", "raspberrypi/openocd", None),
    ("riscv", "RISCV", "riscv-collab+riscv-openocd", "riscv-collab/riscv-openocd", None),
    ("st", "ST", "STMicroelectronics+OpenOCD", "STMicroelectronics/OpenOCD", None),
]
LABELS = [s[0] for s in SOURCES]
LABEL_ORDER = {l: i for i, l in enumerate(LABELS)}


def fail(msg):
    sys.stderr.write("generate.py: %s\n" % msg)
    sys.exit(1)


# --------------------------------------------------------------------------------------------
# git access


def git(gitdir, *args, inp=None):
    r = subprocess.run(["git", "--git-dir=" + gitdir] + list(args), input=inp,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError("git %s: %s" % (" ".join(args), r.stderr.decode(errors="replace")))
    return r.stdout


BLOBS = {}  # sha -> text (shared by all trees: identical files are read and parsed once)


class Tree:
    def __init__(self, label, gitdir, repo, ref):
        self.label = label
        self.gitdir = gitdir
        self.repo = repo
        if ref is None:
            try:
                sym = git(gitdir, "symbolic-ref", "-q", "HEAD").decode().strip()
                git(gitdir, "rev-parse", "--verify", "-q", sym + "^{commit}")
            except RuntimeError:
                sym = None
                for cand in ("refs/heads/master", "refs/heads/main"):
                    try:
                        git(gitdir, "rev-parse", "--verify", "-q", cand + "^{commit}")
                        sym = cand
                        break
                    except RuntimeError:
                        pass
                if sym is None:
                    fail("%s: no HEAD and no default branch" % gitdir)
            ref = sym[len("refs/heads/"):] if sym.startswith("refs/heads/") else sym
            rev = sym
        else:
            rev = "refs/tags/" + ref
        self.ref = ref
        self.commit = git(gitdir, "rev-parse", rev + "^{commit}").decode().strip()
        self.files = {}  # path -> blob sha
        out = git(gitdir, "ls-tree", "-r", "-z", "--full-tree", self.commit)
        for ent in out.split(b"\0"):
            if not ent:
                continue
            meta, path = ent.split(b"\t", 1)
            mode, typ, sha = meta.split(b" ")
            if typ != b"blob" or mode == b"120000":
                continue
            self.files[path.decode("utf-8", "replace")] = sha.decode()

    def paths(self, pred):
        return sorted(p for p in self.files if pred(p))

    def load(self, paths):
        """Read the blobs of `paths` into BLOBS (one `git cat-file --batch` per call)."""
        need = sorted({self.files[p] for p in paths} - set(BLOBS))
        if not need:
            return
        out = git(self.gitdir, "cat-file", "--batch", inp=("\n".join(need) + "\n").encode())
        pos = 0
        for sha in need:
            nl = out.index(b"\n", pos)
            hdr = out[pos:nl].split(b" ")
            if len(hdr) < 3 or hdr[1] != b"blob":
                raise RuntimeError("cat-file: unexpected header %r" % out[pos:nl])
            size = int(hdr[2])
            data = out[nl + 1:nl + 1 + size]
            pos = nl + 1 + size + 1
            BLOBS[hdr[0].decode()] = data.decode("utf-8", "replace")

    def text(self, path):
        sha = self.files[path]
        if sha not in BLOBS:
            self.load([path])
        return BLOBS[sha]


# --------------------------------------------------------------------------------------------
# C tokenizer (tolerant; no preprocessing beyond splitting out #define bodies)

TOKEN_RE = re.compile(r'''
 (?P<ws>[ \t\r\f\v]+)
|(?P<nl>\n)
|(?P<bs>\\\r?\n)
|(?P<com>//(?:[^\n\\]|\\\r?\n|\\.)*|/\*.*?(?:\*/|\Z))
|(?P<str>(?:u8|u|U|L)?"(?:[^"\\\n]|\\(?:\r?\n|.))*")
|(?P<chr>(?:u8|u|U|L)?'(?:[^'\\\n]|\\.)*')
|(?P<id>[A-Za-z_]\w*)
|(?P<num>\.?[0-9](?:[eEpP][-+]|[\w.])*)
|(?P<punct>\#\#|->|\+\+|--|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^!=<>]=|\.\.\.|[-+*/%&|^!~<>=?:;,.(){}\[\]\#])
|(?P<other>.)
''', re.S | re.X)


class Tok:
    __slots__ = ("kind", "text", "pos")

    def __init__(self, kind, text, pos):
        self.kind = kind
        self.text = text
        self.pos = pos

    def __repr__(self):
        return "%s:%r" % (self.kind, self.text)


class Define:
    __slots__ = ("name", "params", "body", "pos")

    def __init__(self, name, params, body, pos):
        self.name = name
        self.params = params  # None for object-like macros
        self.body = body
        self.pos = pos


class CFile:
    """Tokens of one C file: `code` (outside directives, comments dropped), `defines`,
    `comments` (pos -> text, for the few parsers that want them)."""

    def __init__(self, text):
        self.text = text
        self.code = []
        self.defines = []
        self.comments = {}
        line_start = True
        directive = None  # list of tokens of the current directive
        for m in TOKEN_RE.finditer(text):
            kind = m.lastgroup
            if kind == "ws" or kind == "bs":
                continue
            if kind == "com":
                self.comments[m.start()] = m.group()
                continue
            if kind == "nl":
                if directive is not None:
                    self._directive(directive)
                    directive = None
                line_start = True
                continue
            tok = Tok(kind, m.group(), m.start())
            if directive is not None:
                directive.append(tok)
            elif line_start and tok.text == "#":
                directive = [tok]
            else:
                self.code.append(tok)
            line_start = False
        if directive is not None:
            self._directive(directive)

    def _directive(self, toks):
        if len(toks) < 3 or toks[1].text != "define" or toks[2].kind != "id":
            return
        name = toks[2]
        rest = toks[3:]
        params = None
        if rest and rest[0].text == "(" and rest[0].pos == name.pos + len(name.text):
            params = []
            i = 1
            while i < len(rest) and rest[i].text != ")":
                t = rest[i]
                if t.kind == "id":
                    if i + 1 < len(rest) and rest[i + 1].text == "...":
                        params.append(t.text)  # GNU named variadic `expr...`
                        i += 1
                    else:
                        params.append(t.text)
                elif t.text == "...":
                    params.append("__VA_ARGS__")
                i += 1
            rest = rest[i + 1:]
        self.defines.append(Define(name.text, params, rest, name.pos))


CFILE_CACHE = {}


def cfile(tree, path):
    sha = tree.files[path]
    c = CFILE_CACHE.get(sha)
    if c is None:
        c = CFile(tree.text(path))
        CFILE_CACHE[sha] = c
    return c


OPEN = {"(": ")", "[": "]", "{": "}"}
CLOSE = {")", "]", "}"}


def parse_args(toks, i):
    """toks[i] is '('. Return (list of arg token lists, index after ')') or (None, i)."""
    args = [[]]
    depth = 0
    j = i
    n = len(toks)
    limit = min(n, i + 20000)
    while j < limit:
        t = toks[j].text
        if toks[j].kind == "punct":
            if t in OPEN:
                depth += 1
                if depth == 1:
                    j += 1
                    continue
            elif t in CLOSE:
                depth -= 1
                if depth == 0:
                    return [a for a in args] if args != [[]] else [], j + 1
            elif t == "," and depth == 1:
                args.append([])
                j += 1
                continue
            elif t == ";" and depth >= 1:
                # a ';' inside a call: only legal inside a ({ statement expression }) or a
                # brace initializer; treat a call that reaches one at paren level as broken
                if not any(x.text == "{" for x in toks[i:j]):
                    return None, i
        args[-1].append(toks[j])
        j += 1
    return None, i


def strip_parens(toks):
    while len(toks) >= 2 and toks[0].text == "(" and toks[-1].text == ")":
        depth = 0
        ok = True
        for k, t in enumerate(toks):
            if t.text in OPEN:
                depth += 1
            elif t.text in CLOSE:
                depth -= 1
                if depth == 0 and k != len(toks) - 1:
                    ok = False
                    break
        if not ok:
            break
        toks = toks[1:-1]
    return toks


ESC = {"n": "\n", "t": " ", "r": "", "a": "", "b": "", "f": "", "v": "", "e": "",
       "\\": "\\", '"': '"', "'": "'", "?": "?", "\n": ""}


def decode_c_string(tok):
    s = tok.text
    q = s.index('"')
    s = s[q + 1:-1]
    out = []
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c != "\\" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        d = s[i + 1]
        if d == "\r" and i + 2 < n and s[i + 2] == "\n":
            i += 3
            continue
        if d in ESC:
            out.append(ESC[d])
            i += 2
        elif d == "x":
            m = re.match(r"[0-9a-fA-F]+", s[i + 2:])
            if m:
                v = int(m.group(), 16)
                out.append(chr(v) if 0x20 <= v < 0x7f else "")
                i += 2 + len(m.group())
            else:
                out.append("x")
                i += 2
        elif d in "01234567":
            m = re.match(r"[0-7]{1,3}", s[i + 1:])
            v = int(m.group(), 8)
            out.append(chr(v) if 0x20 <= v < 0x7f else ("\n" if v == 10 else ""))
            i += 1 + len(m.group())
        else:
            out.append(d)
            i += 2
    return "".join(out)


def clean_text(s):
    """Final form of a message/usage string: no tabs, newlines or control characters."""
    s = s.replace("\r", "")
    s = s.strip("\n")
    s = s.replace("\n", " ").replace("\t", " ")
    s = "".join(c if (c >= " " and c != "\x7f") else " " for c in s)
    return s


# --------------------------------------------------------------------------------------------
# macro context of one tree: PRI* conversions, string macros, message macros

PRI_RE = re.compile(r"^PRI([diouxX])(8|16|32|64|PTR|MAX|LEAST(?:8|16|32|64)|FAST(?:8|16|32|64))$")
TARGET_PRI_RE = re.compile(r"^TARGET_PRI([diouxX])ADDR$")


def pri_text(name):
    m = TARGET_PRI_RE.match(name)
    if m:
        return "ll" + m.group(1)
    m = PRI_RE.match(name)
    if m:
        w = m.group(2)
        pre = "l" if (w.endswith("64") or w == "PTR") else ("j" if w == "MAX" else "")
        return pre + m.group(1)
    return None


# message macros and functions: name -> (level, index of the format argument, kind)
# kind "printf": a printf format; "plain": a plain string (`%` escaped); "append": Jim_AppendStrings
BASE = {
    "LOG_ERROR": ("error", 0, "printf"),
    "LOG_WARNING": ("warning", 0, "printf"),
    "LOG_INFO": ("info", 0, "printf"),
    "LOG_USER": ("user", 0, "printf"),
    "LOG_USER_N": ("user", 0, "printf"),
    "LOG_OUTPUT": ("user", 0, "printf"),
    "command_print": ("print", 1, "printf"),
    "command_print_sameline": ("print", 1, "printf"),
    "Jim_SetResultFormatted": ("jim", 1, "printf"),
    "Jim_SetResultString": ("jim", 1, "plain"),
    "Jim_AppendStrings": ("jim", 2, "append"),
}

# Derived: a function-like #define whose body passes one of its parameters (possibly with
# literal text around it) as the format of a message macro, e.g. LOG_TARGET_ERROR.
Derived = collections.namedtuple("Derived", "name params level kind alts origin")

NOT_LITERAL = "nonliteral"


class Ctx:
    """What a file sees: derived message macros and string macros (header ones + its own)."""

    def __init__(self, tree_ctx, cf):
        self.tc = tree_ctx
        self.local_str = {}
        for d in cf.defines:
            if d.params is None and d.name not in self.local_str:
                self.local_str[d.name] = d.body
        # `static const char NAME[] = "...";` / `const char * const NAME = "...";` (immutable)
        code = cf.code
        for i in range(len(code) - 3):
            if code[i].text != "char":
                continue
            j = i + 1
            quals = []
            while j < len(code) and code[j].text in ("const", "*"):
                quals.append(code[j].text)
                j += 1
            if j + 2 >= len(code) or code[j].kind != "id":
                continue
            name = code[j].text
            j += 1
            immutable = quals[-2:] == ["*", "const"]
            if code[j].text == "[" and code[j + 1].text == "]":
                j += 2
                immutable = "*" not in quals
            if not immutable:
                continue
            if j + 1 >= len(code) or code[j].text != "=" or code[j + 1].kind != "str":
                continue
            k = j + 1
            while k < len(code) and (code[k].kind == "str" or (
                    code[k].kind == "id" and pri_text(code[k].text) is not None)):
                k += 1
            if k < len(code) and code[k].text == ";" and name not in self.local_str:
                self.local_str[name] = code[j + 1:k]
        self.local_derived = {}
        self.unresolved = collections.Counter()
        self.resolved_macros = collections.Counter()

    def macro_string(self, name, seen=()):
        """Text of a string macro, or None."""
        p = pri_text(name)
        if p is not None:
            return p
        if name in seen or len(seen) > 8:
            return None
        body = self.local_str.get(name)
        if body is None:
            bodies = self.tc.header_str.get(name)
            if not bodies or len(bodies) != 1:
                return None  # unknown or ambiguous
            body = next(iter(bodies))
            body = self.tc.header_str_tok[(name, body)]
        body = strip_parens(body)
        if not body:
            return None
        out = []
        has_str = False
        for t in body:
            if t.kind == "str":
                out.append(decode_c_string(t))
                has_str = True
            elif t.kind == "id":
                s = self.macro_string(t.text, seen + (name,))
                if s is None:
                    return None
                out.append(s)
                has_str = True
            else:
                return None
        return "".join(out) if has_str else None

    def targets(self):
        return self.tc.targets_for(self)

    def eval_literal(self, toks, params, kind="printf"):
        """Evaluate a format argument. Returns a list of alternatives (each a list of pieces:
        ('s', text) or ('p', param index)) or NOT_LITERAL."""
        toks = strip_parens(toks)
        if not toks:
            return NOT_LITERAL
        # conditional: cond ? a : b
        depth = 0
        q = None
        for k, t in enumerate(toks):
            if t.text in OPEN:
                depth += 1
            elif t.text in CLOSE:
                depth -= 1
            elif t.text == "?" and depth == 0:
                q = k
                break
        if q is not None:
            depth = 0
            nest = 0
            c = None
            for k in range(q + 1, len(toks)):
                t = toks[k].text
                if t in OPEN:
                    depth += 1
                elif t in CLOSE:
                    depth -= 1
                elif depth == 0 and t == "?":
                    nest += 1
                elif depth == 0 and t == ":":
                    if nest == 0:
                        c = k
                        break
                    nest -= 1
            if c is None:
                return NOT_LITERAL
            a = self.eval_literal(toks[q + 1:c], params, kind)
            b = self.eval_literal(toks[c + 1:], params, kind)
            alts = []
            for x in (a, b):
                if x is not NOT_LITERAL:
                    alts.extend(x)
            return alts if alts else NOT_LITERAL
        pieces = []
        any_str = False
        pending = []
        k = 0
        while k < len(toks):
            t = toks[k]
            if t.kind == "str":
                s = decode_c_string(t)
                if kind != "printf":
                    s = s.replace("%", "%%")
                pieces.append(("s", s))
                any_str = True
            elif t.kind == "id":
                if params is not None and t.text in params:
                    pieces.append(("p", params.index(t.text)))
                    any_str = True
                else:
                    s = self.macro_string(t.text)
                    if s is not None:
                        if kind != "printf":
                            s = s.replace("%", "%%")
                        pieces.append(("s", s))
                        if pri_text(t.text) is None:
                            self.resolved_macros[t.text] += 1
                        any_str = True
                    else:
                        if k + 1 < len(toks) and toks[k + 1].text == "(":
                            if t.text in self.tc.stringifiers:
                                a, e = parse_args(toks, k + 1)
                                if a is not None:
                                    pieces.append(("s", "%s"))  # the stringized argument
                                    k = e
                                    continue
                            return NOT_LITERAL  # a call: not a literal
                        if len(toks) == 1:
                            return NOT_LITERAL  # a variable
                        pieces.append(("s", "%s"))
                        pending.append(t.text)
            elif t.text == "#" and params is not None and k + 1 < len(toks):
                pieces.append(("s", "%s"))  # stringized macro argument
                k += 1
            elif t.text == "##":
                pass
            else:
                return NOT_LITERAL
            k += 1
        if not any_str:
            return NOT_LITERAL
        self.unresolved.update(pending)
        return [pieces]

    def eval_call(self, name, args, params):
        """Formats of one call. Returns (level, list of alternatives, status) where status is
        'ok', 'nonliteral', 'skip' (nothing to extract) or 'short' (too few arguments)."""
        spec = self.tc.spec(self, name)
        if spec is None:
            return None, [], "skip"
        level, kind, where = spec
        if isinstance(where, int):
            if len(args) <= where:
                return level, [], "short"
            if kind == "append":
                alts = [[]]
                any_lit = False
                for a in args[where:]:
                    a = strip_parens(a)
                    if len(a) == 1 and a[0].text == "NULL":
                        break
                    r = self.eval_literal(a, params, "plain")
                    if r is NOT_LITERAL:
                        alts = [x + [("s", "%s")] for x in alts]
                    else:
                        any_lit = True
                        alts = [x + y for x in alts for y in r][:16]
                return level, alts, ("ok" if any_lit else "skip")
            r = self.eval_literal(args[where], params, kind)
            if r is NOT_LITERAL:
                return level, [], "nonliteral"
            return level, r, "ok"
        # derived macro: substitute its template
        d = where
        out = []
        for alt in d.alts:
            cur = [[]]
            for piece in alt:
                if piece[0] == "s":
                    cur = [c + [piece] for c in cur]
                else:
                    idx = piece[1]
                    if idx >= len(args):
                        return level, [], "short"
                    r = self.eval_literal(args[idx], params, d.kind)
                    if r is NOT_LITERAL:
                        return level, [], "nonliteral"
                    cur = [c + x for c in cur for x in r][:16]
            out.extend(cur)
        return level, out, "ok"


class TreeCtx:
    def __init__(self, tree, c_paths):
        self.tree = tree
        self.header_str = collections.defaultdict(set)  # name -> set of body texts
        self.header_str_tok = {}
        self.header_derived = {}
        headers = [p for p in c_paths if p.endswith(".h")]
        # log.h first: its LOG_TARGET_* definitions win over any redefinition
        headers.sort(key=lambda p: (p != "src/helper/log.h", p))
        hdefs = []
        for p in headers:
            cf = cfile(tree, p)
            for d in cf.defines:
                if d.params is None:
                    key = " ".join(t.text for t in d.body)
                    self.header_str[d.name].add(key)
                    self.header_str_tok[(d.name, key)] = d.body
                else:
                    hdefs.append((p, d))
        # stringifying macros: `#define __stringify(s) #s`, `#define stringify(s) __stringify(s)`
        self.stringifiers = set()
        changed = True
        while changed:
            changed = False
            for p, d in hdefs:
                b = [t.text for t in d.body]
                if d.name in self.stringifiers or len(d.params) != 1:
                    continue
                if b == ["#", d.params[0]] or (len(b) == 4 and b[0] in self.stringifiers and b[1:] == [
                        "(", d.params[0], ")"]):
                    self.stringifiers.add(d.name)
                    changed = True
        self.header_derived = self.derive(hdefs, {}, None)

    def spec(self, ctx, name):
        if name in BASE:
            level, idx, kind = BASE[name]
            return level, kind, idx
        d = ctx.local_derived.get(name) or self.header_derived.get(name)
        if d is None:
            return None
        return d.level, d.kind, d

    def targets_for(self, ctx):
        s = set(BASE)
        s.update(self.header_derived)
        s.update(ctx.local_derived)
        return s

    def derive(self, defs, known, ctx_for):
        """Fixpoint over function-like defines: which of them forward a format parameter."""
        derived = dict(known)
        changed = True
        rounds = 0
        while changed and rounds < 6:
            changed = False
            rounds += 1
            for path, d in defs:
                if d.name in BASE or d.name in derived:
                    continue
                ctx = ctx_for if ctx_for is not None else Ctx(self, _EMPTY_CF)
                saved = ctx.local_derived
                ctx.local_derived = derived if ctx_for is None else {**ctx_for.local_derived, **derived}
                try:
                    names = set(BASE) | set(self.header_derived) | set(derived)
                    for call, args, _ in iter_calls(d.body, names):
                        if args is None:
                            continue
                        lvl, alts, st = ctx.eval_call(call, args, d.params)
                        if st == "ok" and any(p[0] == "p" for a in alts for p in a):
                            spec = self.spec(ctx, call)
                            derived[d.name] = Derived(d.name, d.params, lvl, spec[1], alts, path)
                            changed = True
                            break
                finally:
                    ctx.local_derived = saved
        return derived


class _EmptyCF:
    defines = []
    code = []


_EMPTY_CF = _EmptyCF()


def iter_calls(toks, names):
    """Yield (name, args, index) for calls of `names` in toks; args None if unparsable."""
    n = len(toks)
    for i in range(n - 1):
        t = toks[i]
        if t.kind != "id" or t.text not in names or toks[i + 1].text != "(":
            continue
        if i > 0:
            p = toks[i - 1]
            if p.text in (".", "->", "*", "&") or (p.kind == "id" and p.text not in (
                    "return", "else", "do", "case")) or p.text == "#":
                continue  # member, declaration, address-of, or a #define/#undef name
        args, _ = parse_args(toks, i + 1)
        yield t.text, args, i


# --------------------------------------------------------------------------------------------
# subsystems


def load_subsystems(path):
    rules = []
    with open(path, encoding="utf-8") as f:
        header = False
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != 2:
                fail("%s: bad line %r" % (path, line))
            if not header:
                header = True
                continue
            rules.append((glob_re(cols[0]), cols[1], cols[0]))
    return rules


def glob_re(g):
    out = ["^"]
    i = 0
    while i < len(g):
        c = g[i]
        if g.startswith("**", i):
            out.append("(.*)")
            i += 2
        elif c == "*":
            out.append("([^/]*)")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "{":
            j = g.index("}", i)
            alts = [glob_re(x).pattern[1:-1].replace("(", "(?:").replace("(?:?:", "(?:")
                    for x in g[i + 1:j].split(",")]
            out.append("(" + "|".join(alts) + ")")
            i = j + 1
        else:
            out.append(re.escape(c))
            i += 1
    out.append("$")
    return re.compile("".join(out))


def subsystem_of(rules, path):
    for rx, sub, _ in rules:
        m = rx.match(path)
        if m:
            stem = os.path.splitext(os.path.basename(path))[0]
            s = sub.replace("{stem}", stem)
            for k, g in enumerate(m.groups(), 1):
                s = s.replace("{%d}" % k, os.path.splitext(g)[0] if g else "")
            return s
    return "other"


# --------------------------------------------------------------------------------------------
# messages

CONV_RE = re.compile(r"%[-+ #0-9.*hlLqjzt]*[diouxXscfFeEgGpn%]")


def render(alt):
    return clean_text("".join(p[1] for p in alt))


def informative(fmt):
    """False for formats that are only conversions and punctuation ("%s", "[%s] %s: 0x%x")."""
    return re.search(r"[A-Za-z]{2}", CONV_RE.sub(" ", fmt)) is not None


def extract_messages(tree, rules, stats):
    c_paths = tree.paths(lambda p: p.startswith("src/") and p.endswith((".c", ".h")))
    tree.load(c_paths)
    tc = TreeCtx(tree, c_paths)
    rows = set()
    unresolved = collections.Counter()
    resolved = collections.Counter()
    per_level = collections.Counter()
    unparsed = []
    stats["unparsed_list"] = unparsed
    for p in c_paths:
        cf = cfile(tree, p)
        ctx = Ctx(tc, cf)
        local_defs = [(p, d) for d in cf.defines if d.params is not None]
        if p.endswith(".c") and local_defs:
            ctx.local_derived = tc.derive(local_defs, {}, ctx)
        names = ctx.targets()
        sub = subsystem_of(rules, p)

        def handle(toks, params, in_define):
            for call, args, _ in iter_calls(toks, names):
                if args is None:
                    stats["syntax"] += 1
                    unparsed.append("%s: %s(... unbalanced" % (p, call))
                    continue
                lvl, alts, st = ctx.eval_call(call, args, params)
                if st == "skip":
                    continue
                if st != "ok":
                    if in_define and st == "nonliteral":
                        stats["macro-arg"] += 1
                    else:
                        stats[st] += 1
                        fa = BASE[call][1] if call in BASE else 1
                        arg = " ".join(x.text for x in args[fa]) if len(args) > fa else ""
                        unparsed.append("%s: %s(%s)" % (p, call, arg[:80]))
                    continue
                if any(pc[0] == "p" for a in alts for pc in a):
                    continue  # forwarding macro: its callers are extracted instead
                stats["parsed"] += 1
                for a in alts:
                    fmt = render(a)
                    if not fmt or not informative(fmt):
                        continue
                    rows.add((lvl, sub, p, fmt))

        handle(cf.code, None, False)
        for d in cf.defines:
            if d.params is None and d.name in ctx.local_str and not any(
                    t.kind == "id" and t.text in names for t in d.body):
                continue
            handle(d.body, d.params, True)
        unresolved.update(ctx.unresolved)
        resolved.update(ctx.resolved_macros)
    for r in rows:
        per_level[r[0]] += 1
    stats["unresolved"] = unresolved
    stats["resolved"] = resolved
    stats["levels"] = per_level
    stats["derived"] = sorted(tc.header_derived)
    return rows


# --------------------------------------------------------------------------------------------
# cfg files, usb ids


def cfg_files(tree):
    return {p[len("tcl/"):] for p in tree.files if p.startswith("tcl/")}


UDEV_RE = re.compile(r'ATTRS\{idVendor\}=="([0-9a-fA-F]{4})".*?ATTRS\{idProduct\}=="([0-9a-fA-F]{4})"')


def udev_ids(tree):
    """(vid, pid) -> comment, from contrib/*openocd*.rules."""
    out = {}
    for p in tree.paths(lambda p: p.startswith("contrib/") and p.endswith(".rules")
                        and "openocd" in p):
        comment = ""
        for line in tree.text(p).splitlines():
            s = line.strip()
            if not s:
                comment = ""
                continue
            if s.startswith("#"):
                c = s.lstrip("#").strip()
                if c and not re.match(r"(?i)^(please keep|copy this|if rules|with the command|spdx)", c):
                    comment = c
                continue
            m = UDEV_RE.search(s)
            if m:
                key = (m.group(1).lower(), m.group(2).lower())
                out.setdefault(key, clean_text(comment))
    return out


NUM_DEF_RE = re.compile(r"^\s*#\s*define\s+(\w+)\s+\(?\s*(0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]*\s*\)?\s*(?:/[/*].*)?$",
                        re.M)
ENUM_RE = re.compile(r"\b([A-Z_][A-Z0-9_]*)\s*=\s*(0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]*\s*(?:,|\}|$)", re.M)


def cint(s):
    """A C integer literal (hex, octal or decimal)."""
    if s[:2] in ("0x", "0X"):
        return int(s, 16)
    if len(s) > 1 and s[0] == "0":
        return int(s, 8) if all(c in "01234567" for c in s) else None
    return int(s)


def numeric_defines(text):
    out = {}
    for m in NUM_DEF_RE.finditer(text):
        v = cint(m.group(2))
        if v is not None:
            out.setdefault(m.group(1), v)
    for m in ENUM_RE.finditer(text):
        v = cint(m.group(2))
        if v is not None:
            out.setdefault(m.group(1), v)
    return out


def eval_num(toks, nums):
    toks = strip_parens(toks)
    if len(toks) != 1:
        return None
    t = toks[0]
    if t.kind == "num":
        m = re.match(r"^(0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]*$", t.text)
        return cint(m.group(1)) if m else None
    if t.kind == "id":
        return nums.get(t.text)
    return None


def struct_inits(toks, struct_names):
    """Yield (struct, var, body tokens) for `struct S var = { ... }` (and `S var[] = {`)."""
    n = len(toks)
    for i in range(n - 3):
        if toks[i].text != "struct" or toks[i + 1].text not in struct_names:
            continue
        j = i + 2
        if toks[j].kind != "id":
            continue
        var = toks[j].text
        j += 1
        if j < n and toks[j].text == "[":
            while j < n and toks[j].text != "]":
                j += 1
            j += 1
        if j + 1 >= n or toks[j].text != "=" or toks[j + 1].text != "{":
            continue
        args, end = parse_args_brace(toks, j + 1)
        if args is not None:
            yield toks[i + 1].text, var, args, toks[j + 1:end]


def parse_args_brace(toks, i):
    """toks[i] is '{'. Split its top-level comma-separated elements."""
    elems = [[]]
    depth = 0
    for j in range(i, min(len(toks), i + 200000)):
        t = toks[j].text
        if t in OPEN:
            depth += 1
            if depth == 1:
                continue
        elif t in CLOSE:
            depth -= 1
            if depth == 0:
                return [e for e in elems if e], j + 1
        elif t == "," and depth == 1:
            elems.append([])
            continue
        elems[-1].append(toks[j])
    return None, i


def designated(elem):
    """{ .a = x, .b = y } -> {'a': tokens, 'b': tokens}"""
    if not elem or elem[0].text != "{":
        return None
    parts, _ = parse_args_brace(elem, 0)
    if parts is None:
        return None
    out = {}
    for p in parts:
        if len(p) >= 3 and p[0].text == "." and p[1].kind == "id" and p[2].text == "=":
            out.setdefault(p[1].text, p[3:])
    return out


def str_value(toks, ctx=None):
    toks = strip_parens(toks)
    if not toks or any(t.kind not in ("str", "id") for t in toks) or not any(
            t.kind == "str" for t in toks):
        if ctx is not None and len(toks) == 1 and toks[0].kind == "id":
            s = ctx.macro_string(toks[0].text)
            if s is not None:
                return s
        return None
    out = []
    for t in toks:
        if t.kind == "str":
            out.append(decode_c_string(t))
        else:
            s = ctx.macro_string(t.text) if ctx is not None else pri_text(t.text)
            out.append(s if s is not None else "%s")
    return "".join(out)


def adapter_name_of_file(tree, path):
    cf = cfile(tree, path)
    for st, var, elems, _ in struct_inits(cf.code, ("adapter_driver", "jtag_interface")):
        for e in elems:
            if len(e) >= 3 and e[0].text == "." and e[1].text == "name":
                v = str_value(e[3:])
                if v:
                    return v
    if any(t.text == "hl_layout_api_s" for t in cf.code):
        return "hla"
    return None


VIDNAME = re.compile(r"(?i)vid|vendor")
PIDNAME = re.compile(r"(?i)pid|product")
DEF_VID_RE = re.compile(r"(^|_)(VID|VENDOR_ID|IDVENDOR)(_|$)")
DEF_PID_RE = re.compile(r"(^|_)(PID|PRODUCT_ID|IDPRODUCT)(_|$)")


def driver_usb_ids(tree, udev):
    """(vid, pid, driver) from drivers' id tables and #defines in src/jtag/**.c"""
    out = set()
    paths = tree.paths(lambda p: p.startswith("src/jtag/") and p.endswith(".c"))
    tree.load(paths)
    drivers = {}
    for p in paths:
        drivers[p] = adapter_name_of_file(tree, p)
    for p in paths:
        drv = drivers[p]
        if drv is None:
            # e.g. usb_blaster/ublast2_access_libusb.c: the driver of a sibling file
            d = os.path.dirname(p)
            sib = sorted(x for x in paths if os.path.dirname(x) == d and drivers[x])
            drv = drivers[sib[0]] if (d != "src/jtag/drivers" and sib) else "?"
        text = tree.text(p)
        nums = numeric_defines(text)
        cf = cfile(tree, p)
        toks = cf.code
        tables = {}
        for i in range(len(toks) - 3):
            if toks[i].text != "uint16_t" or toks[i + 1].kind != "id" or toks[i + 2].text != "[":
                continue
            name = toks[i + 1].text
            if not (VIDNAME.search(name) or PIDNAME.search(name)):
                continue
            j = i + 2
            while j < len(toks) and toks[j].text != "]":
                j += 1
            if j + 2 >= len(toks) or toks[j + 1].text != "=" or toks[j + 2].text != "{":
                continue
            elems, _ = parse_args_brace(toks, j + 2)
            if elems is None:
                continue
            vals = [eval_num(e, nums) for e in elems]
            if any(v is None for v in vals):
                continue
            while vals and vals[-1] == 0:
                vals.pop()
            tables.setdefault(name, vals)
        for name, vids in sorted(tables.items()):
            if not re.search(r"(?i)vid", name):
                continue
            pname = re.sub(r"vid", "pid", name)
            pname = re.sub(r"VID", "PID", pname)
            pids = tables.get(pname)
            if pids is None or len(pids) != len(vids):
                continue
            for v, pi in zip(vids, pids):
                if 0 < v <= 0xFFFF and 0 < pi <= 0xFFFF:
                    out.add(("%04x" % v, "%04x" % pi, drv))
        # #define FOO_VID / FOO_PID
        dvids = {k: v for k, v in nums.items() if DEF_VID_RE.search(k) and 0 < v <= 0xFFFF}
        dpids = {k: v for k, v in nums.items() if DEF_PID_RE.search(k) and 0 < v <= 0xFFFF}
        if not p.startswith("src/jtag/drivers/"):
            continue
        for k, pi in sorted(dpids.items()):
            vk = DEF_PID_RE.sub(lambda m: m.group(1) + {"PID": "VID", "PRODUCT_ID": "VENDOR_ID",
                                                        "IDPRODUCT": "IDVENDOR"}[m.group(2)] + m.group(3), k)
            v = dvids.get(vk)
            if v is None and len(set(dvids.values())) == 1:
                v = next(iter(dvids.values()))
            if v is None:
                cands = {vid for (vid, pid) in udev if pid == "%04x" % pi}
                if len(cands) == 1:
                    v = int(next(iter(cands)), 16)
            if v is not None:
                out.add(("%04x" % v, "%04x" % pi, drv))
    return out


VIDPID_CMD_RE = re.compile(r"^\s*(?:adapter\s+usb\s+vid_pid|([\w-]+?)[_ ]vid_pid)\s+(.*)$")
DRIVER_RE = re.compile(r"^\s*(?:adapter\s+driver|interface)\s+([\w-]+)")
CMD_DRIVER = {"cmsis_dap": "cmsis-dap", "hla": "hla", "ftdi": "ftdi", "st-link": "st-link"}


def cfg_usb_ids(tree):
    out = set()
    for p in tree.paths(lambda p: p.startswith("tcl/interface/") and p.endswith(".cfg")):
        text = tree.text(p).replace("\\\r\n", " ").replace("\\\n", " ")
        lines = [l for l in text.splitlines() if not l.lstrip().startswith("#")]
        drv = None
        for l in lines:
            m = DRIVER_RE.match(l)
            if m:
                drv = m.group(1)
                break
        for l in lines:
            m = VIDPID_CMD_RE.match(l)
            if not m:
                continue
            d = drv or CMD_DRIVER.get(m.group(1) or "", m.group(1)) or "?"
            vals = []
            for w in re.split(r"[\s;]+", m.group(2).split("#")[0].strip()):
                if re.match(r"^(0[xX][0-9a-fA-F]+|[0-9]+)$", w):
                    v = cint(w)
                    if v is None:
                        break
                    vals.append(v)
                else:
                    break
            for k in range(0, len(vals) - 1, 2):
                if 0 < vals[k] <= 0xFFFF and 0 < vals[k + 1] <= 0xFFFF:
                    out.add(("%04x" % vals[k], "%04x" % vals[k + 1], d))
    return out


# --------------------------------------------------------------------------------------------
# commands

REG_FUNCS = {"register_commands", "__register_commands", "register_commands_with_data",
             "register_commands_override_target"}


def mode_name(toks):
    toks = strip_parens(toks)
    if len(toks) == 1 and toks[0].kind == "id":
        return toks[0].text.replace("COMMAND_", "").lower()
    return "?"


def chain_name(toks):
    toks = [t for t in strip_parens(toks) if t.text != "&"]
    if toks and toks[0].kind == "id":
        return toks[0].text
    return None


def extract_commands(tree):
    c_paths = tree.paths(lambda p: p.startswith("src/") and p.endswith((".c", ".h")))
    tc = TreeCtx(tree, c_paths)
    arrays = collections.defaultdict(list)  # name -> [(path, entries)]
    roots = collections.defaultdict(set)  # (path, array name) -> set of prefix tuples
    refs = []  # (path, array name, prefix) registration sites
    for p in c_paths:
        cf = cfile(tree, p)
        ctx = Ctx(tc, cf)
        toks = cf.code
        for st, var, elems, _ in struct_inits(toks, ("command_registration",)):
            entries = []
            for e in elems:
                f = designated(e)
                if not f:
                    continue
                name = None
                if "name" in f:
                    name = str_value(f["name"], ctx)
                    if name is None:
                        name = "?"
                usage = ""
                if "usage" in f:
                    u = str_value(f["usage"], ctx)
                    usage = " ".join(clean_text(u).split()) if u is not None else "?"
                mode = mode_name(f["mode"]) if "mode" in f else "exec"
                chain = chain_name(f["chain"]) if "chain" in f else None
                entries.append((name, usage, mode, chain))
            arrays[var].append((p, entries))
        for i in range(len(toks) - 3):
            t = toks[i]
            if t.kind == "id" and t.text in REG_FUNCS and toks[i + 1].text == "(" and (
                    i == 0 or toks[i - 1].kind != "id" or toks[i - 1].text == "return"):
                args, _ = parse_args(toks, i + 1)
                if not args or len(args) < 3:
                    continue
                pre = strip_parens(args[1])
                if len(pre) == 1 and pre[0].text == "NULL":
                    prefix = ()
                else:
                    s = str_value(pre, ctx)
                    if s is None:
                        s = found_command_name(toks, i, pre, ctx)
                    prefix = tuple(s.split()) if s else ("?",)
                a = chain_name(args[2])
                if a:
                    refs.append((p, a, prefix))
            elif t.text == "." and toks[i + 1].text == "commands" and toks[i + 2].text == "=":
                a = chain_name(toks[i + 3:i + 4])
                if a:
                    refs.append((p, a, ()))

    def resolve(path, name):
        cands = arrays.get(name)
        if not cands:
            return None
        for c in cands:
            if c[0] == path:
                return (c[0], name)
        return (sorted(cands)[0][0], name)

    prefixes = collections.defaultdict(set)
    for p, a, prefix in refs:
        key = resolve(p, a)
        if key:
            prefixes[key].add(prefix)
    chained = set()
    for name, lst in arrays.items():
        for p, entries in lst:
            for e in entries:
                if e[3]:
                    k = resolve(p, e[3])
                    if k:
                        chained.add(k)
    for name, lst in arrays.items():
        for p, entries in lst:
            if (p, name) not in prefixes and (p, name) not in chained:
                prefixes[(p, name)].add(("?",))
    # propagate along chains
    rows = set()
    work = sorted(prefixes)
    seen = set()
    while work:
        key = work.pop()
        p, name = key
        entries = next(e for (pp, e) in arrays[name] if pp == p)
        for pre in sorted(prefixes[key]):
            if (key, pre) in seen or len(pre) > 8:
                continue
            seen.add((key, pre))
            for cname, usage, mode, chain in entries:
                path = pre + (cname,) if cname else pre
                if cname and path != ("?",):
                    rows.add((fmt_cmd(path), usage, mode, p))
                if chain:
                    k = resolve(p, chain)
                    if k and path not in prefixes[k]:
                        prefixes[k].add(path)
                        work.append(k)
    return rows


def found_command_name(toks, i, pre, ctx):
    """Old API (<= 0.11): the parent is `command_find_in_context(ctx, "flash")`, passed
    directly or through a variable assigned earlier in the function."""
    def lit_of_find(seq):
        for k in range(len(seq) - 1):
            if seq[k].text == "command_find_in_context" and seq[k + 1].text == "(":
                a, _ = parse_args(seq, k + 1)
                if a and len(a) == 2:
                    return str_value(a[1], ctx)
        return None
    s = lit_of_find(pre)
    if s is not None or len(pre) != 1 or pre[0].kind != "id":
        return s
    var = pre[0].text
    for k in range(i - 1, max(0, i - 400), -1):
        if toks[k].text == var and toks[k + 1].text == "=":
            e = k + 2
            while e < i and toks[e].text != ";":
                e += 1
            return lit_of_find(toks[k + 2:e])
    return None


def fmt_cmd(path):
    if path and path[0] == "?":
        rest = " ".join(path[1:])
        return "?" + rest
    return " ".join(path)


PROC_RE = re.compile(r"^[ \t]*proc[ \t]+", re.M)


def tcl_word(text, i):
    """Read one Tcl word at text[i:] (braced, quoted or bare). Returns (word, end)."""
    n = len(text)
    while i < n and text[i] in " \t":
        i += 1
    if i >= n:
        return None, i
    if text[i] == "{":
        depth = 0
        j = i
        while j < n:
            c = text[j]
            if c == "\\":
                j += 2
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return text[i + 1:j], j + 1
            j += 1
        return None, i
    if text[i] == '"':
        j = text.find('"', i + 1)
        return (text[i + 1:j], j + 1) if j > 0 else (None, i)
    m = re.match(r"[^\s{}\"]+", text[i:])
    if not m:
        return None, i
    return m.group(), i + len(m.group())


def tcl_procs(tree):
    rows = set()
    paths = tree.paths(lambda p: (p.startswith("src/") and p.endswith(".tcl")) or (
        p.startswith("tcl/") and p.endswith((".tcl", ".cfg"))))
    tree.load(paths)
    for p in paths:
        text = tree.text(p)
        for m in PROC_RE.finditer(text):
            name, j = tcl_word(text, m.end())
            if not name:
                continue
            args, j = tcl_word(text, j)
            if args is None:
                continue
            name = clean_text(name).strip()
            args = " ".join(clean_text(args).split())
            if not name or "$" in name or "[" in name:
                continue
            rows.add((name, args, "tcl", p))
    return rows


# --------------------------------------------------------------------------------------------
# flash drivers, stm32 device ids


def flash_drivers(tree):
    rows = set()
    paths = tree.paths(lambda p: p.startswith("src/flash/") and p.endswith(".c"))
    tree.load(paths)
    for p in paths:
        for st, var, elems, _ in struct_inits(cfile(tree, p).code, ("flash_driver",)):
            for e in elems:
                if len(e) >= 3 and e[0].text == "." and e[1].text == "name":
                    v = str_value(e[3:])
                    if v:
                        rows.add((v, p))
    return rows


DEVSW_RE = re.compile(r"(?i)dev|idcode|device")


def stm32_ids(tree, fdrivers):
    rows = set()
    paths = tree.paths(lambda p: re.match(r"^src/flash/nor/stm32\w*\.c$", p) is not None)
    for p in paths:
        drv = sorted(d for d, f in fdrivers if f == p)
        drv = drv[0] if drv else os.path.splitext(os.path.basename(p))[0]
        cf = cfile(tree, p)
        nums = numeric_defines(tree.text(p))
        # ids defined in a header next to the driver (stm32l4x.h, stm32h5x.h)
        for inc in sorted(set(re.findall(r'^\s*#\s*include\s+"([\w.]+\.h)"', tree.text(p), re.M))):
            hp = os.path.dirname(p) + "/" + inc
            if hp in tree.files:
                for k, v in numeric_defines(tree.text(hp)).items():
                    nums.setdefault(k, v)
        toks = cf.code
        # (a) part tables: { .id = X, ... .device_str = "..." }
        stack = []
        for i, t in enumerate(toks):
            if t.text == "{":
                stack.append({})
            elif t.text == "}":
                if stack:
                    f = stack.pop()
                    name = f.get("device_str") or f.get("name")
                    if "id" in f and name:
                        rows.add((drv, "0x%03x" % f["id"], name))
            elif t.text == "." and stack and i + 3 < len(toks) and toks[i + 2].text == "=":
                fld = toks[i + 1].text
                if fld in ("id", "device_str", "name"):
                    k = i + 3
                    val = []
                    depth = 0
                    while k < len(toks) and not (depth == 0 and toks[k].text in (",", "}")):
                        if toks[k].text in OPEN:
                            depth += 1
                        elif toks[k].text in CLOSE:
                            depth -= 1
                        val.append(toks[k])
                        k += 1
                    if fld == "id":
                        v = eval_num(val, nums)
                        if v is not None and 0 < v <= 0xFFF:
                            stack[-1]["id"] = v
                    else:
                        s = str_value(val)
                        if s:
                            stack[-1][fld] = clean_text(s)
        # (b) switch (device_id) { case 0x410: device_str = "..."; ... } and case comments
        for i, t in enumerate(toks):
            if t.text != "switch" or i + 1 >= len(toks) or toks[i + 1].text != "(":
                continue
            args, end = parse_args(toks, i + 1)
            if not args or end >= len(toks) or toks[end].text != "{":
                continue
            expr = " ".join(x.text for x in args[0])
            if not DEVSW_RE.search(expr) or re.search(r"(?i)rev", expr):
                continue
            body, bend = parse_args_brace(toks, end)
            if body is None:
                continue
            # walk the switch body at its own level
            k = end + 1
            depth = 0
            group = []
            named = set()
            while k < bend - 1:
                x = toks[k]
                if x.text == "switch":
                    # skip a nested switch entirely
                    a2, e2 = parse_args(toks, k + 1)
                    if a2 is not None and e2 < len(toks) and toks[e2].text == "{":
                        _, k = parse_args_brace(toks, e2)
                        continue
                if x.text in OPEN:
                    depth += 1
                elif x.text in CLOSE:
                    depth -= 1
                if x.text == "case" and depth == 0:
                    c = k + 1
                    val = []
                    while c < len(toks) and toks[c].text != ":":
                        val.append(toks[c])
                        c += 1
                    v = eval_num(val, nums)
                    if named:
                        group = []
                        named = set()
                    if v is not None and 0 < v <= 0xFFF:
                        group.append(v)
                        # a comment right after `case 0x410:` names the part
                        nxt = toks[c + 1].pos if c + 1 < len(toks) else len(cf.text)
                        after = toks[c].pos + 1
                        for cp in sorted(cf.comments):
                            if after <= cp < nxt and "\n" not in cf.text[after:cp]:
                                com = cf.comments[cp].strip("/* \t")
                                com = clean_text(com).strip()
                                if com and re.search(r"[A-Za-z0-9]", com):
                                    rows.add((drv, "0x%03x" % v, "(" + com + ")"))
                                break
                    k = c + 1
                    continue
                if x.text == "default" and depth == 0:
                    group = []
                if x.text == "break" and depth == 0:
                    group = []
                    named = set()
                if (x.kind == "id" and (x.text == "device_str" or x.text.endswith("device_str")
                                         or x.text == "part_name")
                        and k + 2 < len(toks) and toks[k + 1].text == "=" and toks[k + 2].kind == "str"
                        and group):
                    s = clean_text(decode_c_string(toks[k + 2]))
                    for v in group:
                        rows.add((drv, "0x%03x" % v, s))
                    named.add(s)
                k += 1
    # a comment-derived name only where no string names the id
    named_ids = {(d, i) for d, i, n in rows if not n.startswith("(")}
    return {(d, i, n) for d, i, n in rows if not n.startswith("(") or (d, i) not in named_ids}


# --------------------------------------------------------------------------------------------
# output


def join_sources(labels):
    return ",".join(sorted(labels, key=LABEL_ORDER.get))


def check_field(s):
    if "\t" in s or "\n" in s or "\r" in s:
        fail("field with a tab or newline: %r" % s)
    return s


def write_tsv(path, header, rows, desc, trees):
    lines = []
    for r in rows:
        lines.append("\t".join(check_field(x) for x in r))
    lines = sorted(set(lines))
    srcs = " ".join("%s=%s@%s" % (t.label, t.repo, t.commit[:12]) for t in trees)
    head = "# %s by %s from %s" % (desc, GENERATOR, srcs)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = head + "\n" + "\t".join(header) + "\n" + "".join(l + "\n" for l in lines)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(data)
    return len(lines), len(data.encode("utf-8"))


def merge(per_source):
    """{label: set(tuple)} -> {tuple: set(labels)}"""
    out = collections.defaultdict(set)
    for label, rows in per_source.items():
        for r in rows:
            out[r].add(label)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=ROOT, help="root to write rules/ under (default: the repo)")
    ap.add_argument("--quiet", action="store_true", help="no report on stdout")
    ap.add_argument("--unparsed", action="store_true",
                    help="list the message call sites whose format is not a literal")
    opts = ap.parse_args()
    base = os.environ.get("OCDOCTOR_MIRRORS", "/work/.mirror")
    trees = []
    for label, env, folder, repo, ref in SOURCES:
        gitdir = os.environ.get("OCDOCTOR_MIRROR_" + env, os.path.join(base, folder, "repo"))
        if not os.path.isdir(gitdir):
            fail("%s: no git dir %s (set OCDOCTOR_MIRRORS or OCDOCTOR_MIRROR_%s)" % (label, gitdir, env))
        trees.append(Tree(label, gitdir, repo, ref))
    rules = load_subsystems(os.path.join(HERE, "subsystems.tsv"))
    report = []
    out = opts.out

    def say(s=""):
        report.append(s)

    # sources
    n, _ = write_tsv(os.path.join(out, "rules/catalog/sources.tsv"), ["label", "repo", "ref", "commit"],
                     [(t.label, t.repo, t.ref, t.commit) for t in trees], "OpenOCD sources", trees)
    # messages
    msgs = {}
    stats = {}
    for t in trees:
        st = collections.Counter()
        msgs[t.label] = extract_messages(t, rules, st)
        stats[t.label] = st
    merged = merge(msgs)
    rows = [(lvl, sub, f, join_sources(ls), fmt) for (lvl, sub, f, fmt), ls in merged.items()]
    n_msg, size_msg = write_tsv(os.path.join(out, "rules/catalog/messages.tsv"),
                                ["level", "subsystem", "file", "sources", "format"], rows,
                                "OpenOCD message formats", trees)
    say("messages.tsv: %d rows, %d bytes" % (n_msg, size_msg))
    say("%-12s %7s %7s %7s %7s %7s %7s | %7s %7s %7s %7s %7s" % (
        "source", "error", "warning", "info", "user", "print", "jim",
        "sites", "nonlit", "macro", "syntax", "short"))
    for t in trees:
        st = stats[t.label]
        lv = st["levels"]
        say("%-12s %7d %7d %7d %7d %7d %7d | %7d %7d %7d %7d %7d" % (
            t.label, lv["error"], lv["warning"], lv["info"], lv["user"], lv["print"], lv["jim"],
            st["parsed"], st["nonliteral"], st["macro-arg"], st["syntax"], st["short"]))
    if opts.unparsed:
        for t in trees:
            for u in sorted(set(stats[t.label]["unparsed_list"])):
                say("  unparsed %s %s" % (t.label, u))
    lv_all = collections.Counter(r[0] for r in rows)
    say("all sources: " + ", ".join("%s %d" % (k, lv_all[k]) for k in
                                   ("error", "warning", "info", "user", "print", "jim")))
    unres = collections.Counter()
    resolved = collections.Counter()
    for t in trees:
        unres.update(stats[t.label]["unresolved"])
        resolved.update(stats[t.label]["resolved"])
    say("macro names kept as %%s (uses summed over sources): %d names, %d uses; top: %s" % (
        len(unres), sum(unres.values()),
        ", ".join("%s %d" % kv for kv in sorted(unres.items(), key=lambda kv: (-kv[1], kv[0]))[:12])))
    say("string macros resolved from their #define: %d names, %d uses; top: %s" % (
        len(resolved), sum(resolved.values()),
        ", ".join("%s %d" % kv for kv in sorted(resolved.items(), key=lambda kv: (-kv[1], kv[0]))[:8])))
    say("derived message macros (headers, master): %s" % " ".join(stats["master"]["derived"]))
    subs = collections.Counter()
    subs_all = collections.Counter()
    for r in rows:
        subs_all[r[1]] += 1
        if r[0] in ("error", "warning"):
            subs[r[1]] += 1
    say("subsystems (error+warning formats / all formats):")
    for s in sorted(subs_all):
        say("  %-28s %6d %6d" % (s, subs[s], subs_all[s]))
    # cfg files
    cfg = {t.label: cfg_files(t) for t in trees}
    merged = merge({k: {(p,) for p in v} for k, v in cfg.items()})
    n, size = write_tsv(os.path.join(out, "rules/versions/cfg_files.tsv"), ["path", "sources"],
                        [(r[0], join_sources(ls)) for r, ls in merged.items()],
                        "files under tcl/ (paths relative to tcl/)", trees)
    say("cfg_files.tsv: %d rows, %d bytes; per source: %s" % (
        n, size, ", ".join("%s %d" % (t.label, len(cfg[t.label])) for t in trees)))
    # usb ids
    udev = {}
    known = collections.defaultdict(set)  # (vid,pid,driver) -> labels
    for t in trees:
        udev[t.label] = udev_ids(t)
        ids = cfg_usb_ids(t) | driver_usb_ids(t, udev[t.label])
        for r in ids:
            known[r].add(t.label)
    udev_src = collections.defaultdict(set)
    for label in LABELS:
        for k in udev[label]:
            udev_src[k].add(label)
    notes = {}
    # the comment of the newest upstream rules file wins, then 0.12.0, ..., then the forks
    for label in ["master", "0.12.0", "0.11.0", "0.10.0"] + LABELS[4:]:
        for k, c in udev[label].items():
            if c and k not in notes:
                notes[k] = c
    usb_rows = []
    keys = {(v, p) for v, p, _ in known} | set(udev_src)
    for v, p in sorted(keys):
        drvs = sorted(d for (vv, pp, d) in known if (vv, pp) == (v, p))
        ud = udev_src.get((v, p))
        note = notes.get((v, p), "")
        tag = "[udev: %s]" % join_sources(ud) if ud else "[no udev rule]"
        note = (note + " " + tag).strip()
        if not drvs:
            usb_rows.append((v, p, "?", join_sources(ud), note))
        for d in drvs:
            usb_rows.append((v, p, d, join_sources(known[(v, p, d)]), note))
    n, size = write_tsv(os.path.join(out, "rules/versions/usb_ids.tsv"),
                        ["vid", "pid", "driver", "sources", "note"], usb_rows,
                        "USB ids from udev rules, adapter drivers and tcl/interface cfgs", trees)
    say("usb_ids.tsv: %d rows (%d vid:pid); driver known for %d vid:pid; udev per source: %s" % (
        n, len(keys), len({(v, p) for v, p, d in known if d != "?"}),
        ", ".join("%s %d" % (t.label, len(udev[t.label])) for t in trees)))
    # commands
    cmds = {t.label: extract_commands(t) | tcl_procs(t) for t in trees}
    merged = merge(cmds)
    crow = [(c, u, m, f, join_sources(ls)) for (c, u, m, f), ls in merged.items()]
    n, size = write_tsv(os.path.join(out, "rules/versions/commands.tsv"),
                        ["command", "usage", "mode", "file", "sources"], crow,
                        "registered commands and Tcl procs", trees)
    q = sum(1 for r in crow if r[0].startswith("?"))
    say("commands.tsv: %d rows, %d bytes; %d with an undetermined prefix (?); per source: %s" % (
        n, size, q, ", ".join("%s %d" % (t.label, len({r[0] for r in cmds[t.label]})) for t in trees)))
    # flash drivers, stm32 ids
    fd = {t.label: flash_drivers(t) for t in trees}
    merged = merge(fd)
    n, size = write_tsv(os.path.join(out, "rules/versions/flash_drivers.tsv"),
                        ["driver", "file", "sources"],
                        [(d, f, join_sources(ls)) for (d, f), ls in merged.items()],
                        "flash drivers", trees)
    say("flash_drivers.tsv: %d rows; per source: %s" % (
        n, ", ".join("%s %d" % (t.label, len(fd[t.label])) for t in trees)))
    sids = {t.label: stm32_ids(t, fd[t.label]) for t in trees}
    merged = merge(sids)
    n, size = write_tsv(os.path.join(out, "rules/versions/stm32_device_ids.tsv"),
                        ["driver", "dev_id", "name", "sources"],
                        [(d, i, nm, join_sources(ls)) for (d, i, nm), ls in merged.items()],
                        "STM32 device ids of the stm32 flash drivers", trees)
    per_drv = collections.Counter(d for (d, i, nm) in merged)
    say("stm32_device_ids.tsv: %d rows; per driver: %s" % (
        n, ", ".join("%s %d" % kv for kv in sorted(per_drv.items()))))
    if not opts.quiet:
        print("\n".join(report))


if __name__ == "__main__":
    main()
