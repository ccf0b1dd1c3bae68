//! A small three-valued `expr` for `if` conditions: integers, strings, `! ~ - +`, arithmetic,
//! comparisons, `eq ne`, bit operators, `&& ||` (short-circuit, so `0 && ?` is false), and
//! parentheses. Substitutions are done by the caller; a value the caller could not know is
//! written as [`UNKNOWN`] and makes everything it touches unknown.

/// Marks an unknown value in the substituted expression text.
pub const UNKNOWN: char = '\u{1}';

#[derive(Debug, Clone, PartialEq)]
pub enum Ev {
    Int(i64),
    Str(String),
    Unknown,
}

impl Ev {
    /// Tcl truthiness; `None` when unknown or not a boolean.
    pub fn truth(&self) -> Option<bool> {
        match self {
            Ev::Int(i) => Some(*i != 0),
            Ev::Str(s) => match s.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" => Some(true),
                "false" | "no" | "off" => Some(false),
                t => parse_int(t).map(|i| i != 0),
            },
            Ev::Unknown => None,
        }
    }
    fn int(&self) -> Option<i64> {
        match self {
            Ev::Int(i) => Some(*i),
            Ev::Str(s) => parse_int(s),
            Ev::Unknown => None,
        }
    }
}

/// Parse a Tcl integer (decimal, `0x`, `0o`, `0b`, with sign).
pub fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()? as i64
    } else if let Some(o) = s.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()?
    } else if let Some(b) = s.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()?
    } else if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse::<i64>().ok()?
    } else {
        return None;
    };
    Some(if neg { v.wrapping_neg() } else { v })
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Val(Ev),
    Op(&'static str),
    Open,
    Close,
}

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    const OPS: &[&str] = &[
        "&&", "||", "==", "!=", "<=", ">=", "<<", ">>", "**", "!", "~", "-", "+", "*", "/", "%",
        "<", ">", "&", "|", "^",
    ];
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if s[i..].starts_with(UNKNOWN) {
            out.push(Tok::Val(Ev::Unknown));
            i += UNKNOWN.len_utf8();
            continue;
        }
        match c {
            b'(' => {
                out.push(Tok::Open);
                i += 1;
            }
            b')' => {
                out.push(Tok::Close);
                i += 1;
            }
            b'"' | b'{' => {
                let close = if c == b'"' { '"' } else { '}' };
                let end = s[i + 1..].find(close)? + i + 1;
                let v = &s[i + 1..end];
                out.push(Tok::Val(if v.contains(UNKNOWN) {
                    Ev::Unknown
                } else {
                    Ev::Str(v.to_string())
                }));
                i = end + 1;
            }
            _ if c.is_ascii_digit() => {
                let st = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    i += 1;
                }
                out.push(Tok::Val(match parse_int(&s[st..i]) {
                    Some(v) => Ev::Int(v),
                    None => Ev::Unknown,
                }));
            }
            _ if c.is_ascii_alphabetic() || c == b'_' => {
                let st = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                match &s[st..i] {
                    "eq" => out.push(Tok::Op("eq")),
                    "ne" => out.push(Tok::Op("ne")),
                    "in" | "ni" => return None,
                    w if i < b.len() && b[i] == b'(' => {
                        // A math function: unknown result (skip its parenthesized argument).
                        let _ = w;
                        let mut depth = 0;
                        while i < b.len() {
                            match b[i] {
                                b'(' => depth += 1,
                                b')' => {
                                    depth -= 1;
                                    if depth == 0 {
                                        i += 1;
                                        break;
                                    }
                                }
                                _ => {}
                            }
                            i += 1;
                        }
                        out.push(Tok::Val(Ev::Unknown));
                    }
                    w => out.push(Tok::Val(Ev::Str(w.to_string()))),
                }
            }
            _ => {
                let op = OPS.iter().find(|o| s[i..].starts_with(**o))?;
                out.push(Tok::Op(op));
                i += op.len();
            }
        }
    }
    Some(out)
}

fn prec(op: &str) -> u8 {
    match op {
        "||" => 1,
        "&&" => 2,
        "|" => 3,
        "^" => 4,
        "&" => 5,
        "==" | "!=" | "eq" | "ne" => 6,
        "<" | ">" | "<=" | ">=" => 7,
        "<<" | ">>" => 8,
        "+" | "-" => 9,
        "*" | "/" | "%" => 10,
        "**" => 11,
        _ => 0,
    }
}

struct P {
    toks: Vec<Tok>,
    i: usize,
}

impl P {
    fn primary(&mut self, depth: usize) -> Option<Ev> {
        if depth > 100 {
            return None;
        }
        let t = self.toks.get(self.i)?.clone();
        self.i += 1;
        match t {
            Tok::Val(v) => Some(v),
            Tok::Open => {
                let v = self.binary(0, depth + 1)?;
                if self.toks.get(self.i) == Some(&Tok::Close) {
                    self.i += 1;
                }
                Some(v)
            }
            Tok::Op("!") => Some(match self.primary(depth + 1)?.truth() {
                Some(b) => Ev::Int(i64::from(!b)),
                None => Ev::Unknown,
            }),
            Tok::Op("-") => Some(
                self.primary(depth + 1)?
                    .int()
                    .map_or(Ev::Unknown, |i| Ev::Int(i.wrapping_neg())),
            ),
            Tok::Op("+") => self.primary(depth + 1),
            Tok::Op("~") => Some(
                self.primary(depth + 1)?
                    .int()
                    .map_or(Ev::Unknown, |i| Ev::Int(!i)),
            ),
            _ => None,
        }
    }

    fn binary(&mut self, min: u8, depth: usize) -> Option<Ev> {
        let mut lhs = self.primary(depth)?;
        while let Some(Tok::Op(op)) = self.toks.get(self.i).cloned() {
            let p = prec(op);
            if p == 0 || p <= min {
                break;
            }
            self.i += 1;
            let rhs = self.binary(p, depth + 1)?;
            lhs = apply(op, &lhs, &rhs);
        }
        Some(lhs)
    }
}

fn apply(op: &str, a: &Ev, b: &Ev) -> Ev {
    let bool_ev = |x: bool| Ev::Int(i64::from(x));
    match op {
        "&&" => match (a.truth(), b.truth()) {
            (Some(false), _) | (_, Some(false)) => bool_ev(false),
            (Some(true), Some(true)) => bool_ev(true),
            _ => Ev::Unknown,
        },
        "||" => match (a.truth(), b.truth()) {
            (Some(true), _) | (_, Some(true)) => bool_ev(true),
            (Some(false), Some(false)) => bool_ev(false),
            _ => Ev::Unknown,
        },
        _ if *a == Ev::Unknown || *b == Ev::Unknown => Ev::Unknown,
        "eq" | "ne" | "==" | "!=" | "<" | ">" | "<=" | ">=" => {
            let ord = match (a.int(), b.int(), op) {
                (Some(x), Some(y), _) => x.cmp(&y),
                (_, _, "eq" | "ne") | (None, _, _) | (_, None, _) => {
                    let s = |e: &Ev| match e {
                        Ev::Int(i) => i.to_string(),
                        Ev::Str(s) => s.clone(),
                        Ev::Unknown => String::new(),
                    };
                    s(a).cmp(&s(b))
                }
            };
            let ord = if matches!(op, "eq" | "ne") {
                let s = |e: &Ev| match e {
                    Ev::Int(i) => i.to_string(),
                    Ev::Str(s) => s.clone(),
                    Ev::Unknown => String::new(),
                };
                s(a).cmp(&s(b))
            } else {
                ord
            };
            use std::cmp::Ordering::*;
            bool_ev(match op {
                "eq" | "==" => ord == Equal,
                "ne" | "!=" => ord != Equal,
                "<" => ord == Less,
                ">" => ord == Greater,
                "<=" => ord != Greater,
                _ => ord != Less,
            })
        }
        _ => match (a.int(), b.int()) {
            (Some(x), Some(y)) => match op {
                "+" => Ev::Int(x.wrapping_add(y)),
                "-" => Ev::Int(x.wrapping_sub(y)),
                "*" => Ev::Int(x.wrapping_mul(y)),
                "/" if y != 0 => Ev::Int(x.wrapping_div(y)),
                "%" if y != 0 => Ev::Int(x.wrapping_rem(y)),
                "&" => Ev::Int(x & y),
                "|" => Ev::Int(x | y),
                "^" => Ev::Int(x ^ y),
                "<<" => Ev::Int(x.wrapping_shl(y as u32)),
                ">>" => Ev::Int(x.wrapping_shr(y as u32)),
                _ => Ev::Unknown,
            },
            _ => Ev::Unknown,
        },
    }
}

/// Evaluate a substituted expression; unknown when it cannot be read.
pub fn eval(s: &str) -> Ev {
    let Some(toks) = tokenize(s) else {
        return Ev::Unknown;
    };
    let mut p = P { toks, i: 0 };
    match p.binary(0, 0) {
        Some(v) if p.i == p.toks.len() => v,
        _ => Ev::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exprs() {
        assert_eq!(eval("1 && !0").truth(), Some(true));
        assert_eq!(eval("0 && \u{1}").truth(), Some(false));
        assert_eq!(eval("\u{1} || 1").truth(), Some(true));
        assert_eq!(eval("\u{1} == 1"), Ev::Unknown);
        assert_eq!(eval("\"halted\" eq \"halted\"").truth(), Some(true));
        assert_eq!(eval("0x10 + 2 * 3 == 22").truth(), Some(true));
        assert_eq!(eval("(1 || 0) && 0").truth(), Some(false));
        assert_eq!(eval("abc != \"\"").truth(), Some(true));
        assert_eq!(eval("int(3) > 1"), Ev::Unknown);
        assert_eq!(eval("1 +"), Ev::Unknown);
    }
}
