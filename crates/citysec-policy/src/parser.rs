//! The recursive-descent parser. Recursion happens only for parentheses and `not`,
//! and both count against [`PolicyLimits::max_depth`], so no input can exhaust
//! the stack; `and` and `or` chains are parsed in loops.

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;

use crate::PolicyLimits;
use crate::ast::{
    Ast, AttrName, CmpOp, Cond, Decl, Effect, Ident, Leaf, LeafOp, Lit, LitVal, Operand, RuleAst, ScopeAst, Span,
};
use crate::error::{Diagnostic, DiagnosticKind, excerpt};
use crate::lexer::{Lexer, Tok, Token};
use crate::value::{Type, Weekday};

/// Words with a meaning in the grammar; they cannot name actions or resource types.
pub(crate) const RESERVED: &[&str] = &[
    "permit", "forbid", "action", "on", "when", "unless", "and", "or", "not", "in", "has", "true", "false",
];

/// The entities attributes belong to.
pub(crate) const ROOTS: &[&str] = &["subject", "resource", "context"];

/// Parses a whole source: declarations and rules.
pub(crate) fn parse<'s>(src: &'s str, limits: &PolicyLimits) -> Result<Ast<'s>, Diagnostic> {
    if src.len() > limits.max_source_len {
        return Err(Diagnostic::at(
            src,
            0,
            DiagnosticKind::TooLarge,
            format!("{} bytes", src.len()),
            format!("at most {} bytes (PolicyLimits::max_source_len)", limits.max_source_len),
        ));
    }
    let mut lex = Lexer::new(src);
    let tok = lex.next_token()?;
    let mut p = Parser {
        src,
        lex,
        tok,
        prev_end: 0,
        depth: 0,
        limits,
    };
    let mut ast = Ast::default();
    while p.tok.tok != Tok::Eof {
        p.item(&mut ast)?;
    }
    Ok(ast)
}

struct Parser<'s, 'l> {
    src: &'s str,
    lex: Lexer<'s>,
    tok: Token,
    prev_end: usize,
    depth: usize,
    limits: &'l PolicyLimits,
}

type Res<T> = Result<T, Diagnostic>;

impl<'s> Parser<'s, '_> {
    fn text(&self, t: &Token) -> &'s str {
        self.src.get(t.start..t.end).unwrap_or("")
    }

    fn bump(&mut self) -> Res<Token> {
        let next = self.lex.next_token()?;
        self.prev_end = self.tok.end;
        Ok(core::mem::replace(&mut self.tok, next))
    }

    fn is_kw(&self, kw: &str) -> bool {
        self.tok.tok == Tok::Ident && self.text(&self.tok) == kw
    }

    fn is_root(&self) -> bool {
        self.tok.tok == Tok::Ident && ROOTS.contains(&self.text(&self.tok))
    }

    fn found(&self) -> alloc::string::String {
        match &self.tok.tok {
            Tok::Eof => "end of input".into(),
            _ => excerpt(self.text(&self.tok)),
        }
    }

    fn unexpected(&self, expected: &str) -> Diagnostic {
        Diagnostic::at(self.src, self.tok.start, DiagnosticKind::Syntax, self.found(), expected)
    }

    fn too_many(&self, at: usize, what: &str, max: usize) -> Diagnostic {
        Diagnostic::at(
            self.src,
            at,
            DiagnosticKind::TooMany,
            format!("more than {max} {what}"),
            format!("at most {max} {what} (PolicyLimits)"),
        )
    }

    fn expect(&mut self, t: &Tok, expected: &str) -> Res<Token> {
        if &self.tok.tok == t {
            self.bump()
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn expect_kw(&mut self, kw: &str, expected: &str) -> Res<Token> {
        if self.is_kw(kw) {
            self.bump()
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// A name that is not a reserved word.
    fn name(&mut self, what: &str) -> Res<Ident<'s>> {
        if self.tok.tok == Tok::Ident && !RESERVED.contains(&self.text(&self.tok)) {
            let t = self.bump()?;
            Ok(Ident {
                text: self.text(&t),
                span: Span {
                    start: t.start,
                    end: t.end,
                },
            })
        } else {
            Err(self.unexpected(what))
        }
    }

    fn enter(&mut self, at: &Token) -> Res<()> {
        self.depth = self.depth.saturating_add(1);
        if self.depth > self.limits.max_depth {
            return Err(Diagnostic::at(
                self.src,
                at.start,
                DiagnosticKind::TooDeep,
                self.text(at),
                format!(
                    "at most {} nested parentheses and `not` (PolicyLimits::max_depth)",
                    self.limits.max_depth
                ),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn item(&mut self, ast: &mut Ast<'s>) -> Res<()> {
        let start = self.tok.start;
        if self.is_kw("permit") || self.is_kw("forbid") {
            if ast.rules.len() >= self.limits.max_rules {
                return Err(self.too_many(start, "rules", self.limits.max_rules));
            }
            let rule = self.rule()?;
            ast.rules.push(rule);
            return Ok(());
        }
        let decl = if self.is_kw("action") {
            self.bump()?;
            let names = self.names("an action name", self.limits.max_declarations)?;
            Decl::Actions(names)
        } else if self.is_root() {
            let root = self.bump()?;
            if self.text(&root) == "resource" && self.tok.tok == Tok::Ident {
                Decl::ResourceTypes(self.names("a resource type name", self.limits.max_declarations)?)
            } else {
                let name = self.attr_after_root(&root)?;
                self.expect(&Tok::Colon, "`:` and the attribute's type")?;
                let ty = self.ty()?;
                Decl::Attribute { name, ty }
            }
        } else {
            return Err(self.unexpected(
                "`permit`, `forbid`, or a declaration (`action NAME, ...;`, `resource NAME, ...;` or \
                 `subject.NAME: TYPE;`)",
            ));
        };
        self.expect(&Tok::Semi, "`;` to end the declaration")?;
        ast.decls.push((
            decl,
            Span {
                start,
                end: self.prev_end,
            },
        ));
        Ok(())
    }

    /// `NAME (, NAME)*`
    fn names(&mut self, what: &str, max: usize) -> Res<Vec<Ident<'s>>> {
        let mut out = Vec::new();
        loop {
            if out.len() >= max {
                return Err(self.too_many(self.tok.start, "names in one list", max));
            }
            out.push(self.name(what)?);
            if self.tok.tok != Tok::Comma {
                return Ok(out);
            }
            self.bump()?;
        }
    }

    fn ty(&mut self) -> Res<Type> {
        const EXPECTED: &str = "a type: `string`, `int`, `bool`, `weekday`, `set<string>` or `set<int>`";
        if self.tok.tok != Tok::Ident {
            return Err(self.unexpected(EXPECTED));
        }
        let ty = match self.text(&self.tok) {
            "string" => Type::String,
            "int" => Type::Int,
            "bool" => Type::Bool,
            "weekday" => Type::Weekday,
            "set" => {
                self.bump()?;
                self.expect(&Tok::Lt, "`<` and the element type (`set<string>` or `set<int>`)")?;
                let inner = match self.text(&self.tok) {
                    "string" if self.tok.tok == Tok::Ident => Type::StringSet,
                    "int" if self.tok.tok == Tok::Ident => Type::IntSet,
                    _ => return Err(self.unexpected("`string` or `int` as the element type of a set")),
                };
                self.bump()?;
                self.expect(&Tok::Gt, "`>` to close the set type")?;
                return Ok(inner);
            }
            _ => return Err(self.unexpected(EXPECTED)),
        };
        self.bump()?;
        Ok(ty)
    }

    fn rule(&mut self) -> Res<RuleAst<'s>> {
        let kw = self.bump()?;
        let effect = if self.text(&kw) == "permit" {
            Effect::Permit
        } else {
            Effect::Forbid
        };
        let Tok::Str(id) = self.tok.tok.clone() else {
            return Err(self.unexpected("the rule id as a string, e.g. \"staff-office-hours\""));
        };
        let id_tok = self.bump()?;
        self.expect_kw("action", "`action` and the action(s) the rule covers")?;
        let actions = self.scope("an action name, `*` or a list `[open, close]`")?;
        self.expect_kw("on", "`on` and the resource type the rule covers")?;
        let resources = self.scope("a resource type, `*` or a list `[door, gate]`")?;
        let when = if self.is_kw("when") {
            self.bump()?;
            Some(self.or()?)
        } else {
            None
        };
        let unless = if self.is_kw("unless") {
            self.bump()?;
            Some(self.or()?)
        } else {
            None
        };
        let expected = match (&when, &unless) {
            (None, None) => "`when`, `unless` or `;` to end the rule",
            (Some(_), None) => "`and`, `or`, `unless` or `;` to end the rule",
            _ => "`and`, `or` or `;` to end the rule",
        };
        self.expect(&Tok::Semi, expected)?;
        Ok(RuleAst {
            effect,
            id,
            id_span: Span {
                start: id_tok.start,
                end: id_tok.end,
            },
            start: kw.start,
            actions,
            resources,
            when,
            unless,
        })
    }

    fn scope(&mut self, what: &str) -> Res<ScopeAst<'s>> {
        match self.tok.tok {
            Tok::Star => {
                self.bump()?;
                Ok(ScopeAst::All)
            }
            Tok::LBrack => {
                self.bump()?;
                let names = self.names(what, self.limits.max_list_len)?;
                self.expect(&Tok::RBrack, "`,` or `]` to close the list")?;
                Ok(ScopeAst::List(names))
            }
            _ => Ok(ScopeAst::List(alloc::vec![self.name(what)?])),
        }
    }

    fn or(&mut self) -> Res<Cond<'s>> {
        let first = self.and()?;
        if !self.is_kw("or") {
            return Ok(first);
        }
        let mut all = alloc::vec![first];
        while self.is_kw("or") {
            self.bump()?;
            all.push(self.and()?);
        }
        Ok(Cond::Or(all))
    }

    fn and(&mut self) -> Res<Cond<'s>> {
        let first = self.unary()?;
        if !self.is_kw("and") {
            return Ok(first);
        }
        let mut all = alloc::vec![first];
        while self.is_kw("and") {
            self.bump()?;
            all.push(self.unary()?);
        }
        Ok(Cond::And(all))
    }

    fn unary(&mut self) -> Res<Cond<'s>> {
        if self.is_kw("not") {
            let t = self.bump()?;
            self.enter(&t)?;
            let inner = self.unary();
            self.leave();
            return Ok(Cond::Not(Box::new(inner?)));
        }
        match self.tok.tok {
            Tok::LParen => {
                let t = self.bump()?;
                self.enter(&t)?;
                let inner = self.or();
                self.leave();
                let inner = inner?;
                self.expect(&Tok::RParen, "`)`, `and` or `or`")?;
                Ok(inner)
            }
            Tok::Ident if self.is_kw("true") || self.is_kw("false") => {
                let v = self.is_kw("true");
                self.bump()?;
                Ok(Cond::Const(v))
            }
            Tok::Ident if self.is_root() => self.leaf(),
            Tok::Str(_) | Tok::Int(_) => self.lit_in(),
            Tok::Ident if Weekday::from_name(self.text(&self.tok)).is_some() => self.lit_in(),
            _ => {
                Err(self.unexpected("a condition: an attribute such as `subject.roles`, `not`, `(`, `true` or `false`"))
            }
        }
    }

    /// `"lit" in set_attribute`, read as `set_attribute has "lit"`.
    fn lit_in(&mut self) -> Res<Cond<'s>> {
        let lit = self.literal()?;
        self.expect_kw("in", "`in` and a set attribute (a value on the left needs `in`)")?;
        let set = self.attr()?;
        Ok(Cond::Leaf(Leaf {
            span: Span {
                start: lit.span.start,
                end: self.prev_end,
            },
            lhs: set,
            op: LeafOp::Has(Operand::Lit(lit)),
        }))
    }

    fn attr(&mut self) -> Res<AttrName<'s>> {
        if !self.is_root() {
            return Err(self.unexpected("an attribute: `subject.NAME`, `resource.NAME` or `context.NAME`"));
        }
        let root = self.bump()?;
        self.attr_after_root(&root)
    }

    fn attr_after_root(&mut self, root: &Token) -> Res<AttrName<'s>> {
        let dot = self.expect(&Tok::Dot, "`.` and an attribute name, e.g. `subject.roles`")?;
        if self.tok.tok != Tok::Ident {
            return Err(self.unexpected("an attribute name after the `.`"));
        }
        if dot.start != root.end || self.tok.start != dot.end {
            return Err(self.unexpected("an attribute name written without spaces, e.g. `subject.roles`"));
        }
        let name = self.bump()?;
        let span = Span {
            start: root.start,
            end: name.end,
        };
        Ok(AttrName {
            text: self.src.get(span.start..span.end).unwrap_or(""),
            span,
        })
    }

    fn leaf(&mut self) -> Res<Cond<'s>> {
        let lhs = self.attr()?;
        let cmp = match self.tok.tok {
            Tok::EqEq => Some(CmpOp::Eq),
            Tok::Ne => Some(CmpOp::Ne),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Le => Some(CmpOp::Le),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Ge => Some(CmpOp::Ge),
            _ => None,
        };
        let op = if let Some(op) = cmp {
            self.bump()?;
            LeafOp::Cmp(op, self.operand()?)
        } else if self.is_kw("in") {
            self.bump()?;
            if self.tok.tok == Tok::LBrack {
                let open = self.bump()?;
                let mut items = Vec::new();
                while self.tok.tok != Tok::RBrack {
                    if items.len() >= self.limits.max_list_len {
                        return Err(self.too_many(self.tok.start, "list entries", self.limits.max_list_len));
                    }
                    items.push(self.literal()?);
                    if self.tok.tok == Tok::Comma {
                        self.bump()?;
                    } else if self.tok.tok != Tok::RBrack {
                        return Err(self.unexpected("`,` or `]` to close the list"));
                    }
                }
                let close = self.bump()?;
                LeafOp::InList(
                    items,
                    Span {
                        start: open.start,
                        end: close.end,
                    },
                )
            } else if self.is_root() {
                LeafOp::InAttr(self.attr()?)
            } else {
                let lo = self.literal()?;
                self.expect(
                    &Tok::DotDot,
                    "`..` and the end of the range, e.g. `7..19` or `mon..fri`",
                )?;
                let hi = self.literal()?;
                LeafOp::InRange(lo, hi)
            }
        } else if self.is_kw("has") {
            self.bump()?;
            LeafOp::Has(self.operand()?)
        } else {
            LeafOp::Truthy
        };
        Ok(Cond::Leaf(Leaf {
            span: Span {
                start: lhs.span.start,
                end: self.prev_end,
            },
            lhs,
            op,
        }))
    }

    fn operand(&mut self) -> Res<Operand<'s>> {
        if self.is_root() {
            Ok(Operand::Attr(self.attr()?))
        } else {
            Ok(Operand::Lit(self.literal()?))
        }
    }

    fn literal(&mut self) -> Res<Lit> {
        let val = match &self.tok.tok {
            Tok::Str(s) => LitVal::Str(s.clone()),
            Tok::Int(n) => LitVal::Int(*n),
            Tok::Ident if self.is_kw("true") => LitVal::Bool(true),
            Tok::Ident if self.is_kw("false") => LitVal::Bool(false),
            Tok::Ident => match Weekday::from_name(self.text(&self.tok)) {
                Some(d) => LitVal::Weekday(d),
                None => {
                    return Err(self.unexpected(
                        "a value: a string, an integer, `true`, `false`, a weekday `mon`..`sun` or an attribute",
                    ));
                }
            },
            _ => {
                return Err(self.unexpected(
                    "a value: a string, an integer, `true`, `false`, a weekday `mon`..`sun` or an attribute",
                ));
            }
        };
        let t = self.bump()?;
        Ok(Lit {
            val,
            span: Span {
                start: t.start,
                end: t.end,
            },
        })
    }
}
