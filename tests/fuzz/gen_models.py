#!/usr/bin/env python3
"""Generates random, valid gradc models for the native-vs-interpreter differential test.

    python3 gen_models.py --seed N --count K --out DIR    # writes DIR/gen_<N>_<i>.grad

Models are built from typed building blocks, never by trial and error: every pool tensor
carries its axes (dim names) and a rough magnitude, every read subscripts an axis with an
index variable of that axis's dim, and values are kept tame (bounded activations, small
weights, exp/log/sqrt only of arguments known to be in range, no ties in max/min or in
comparisons by construction) because float32 and float64 must agree to 1e-4. A model is
deterministic in (seed, index).

Each file starts with comment lines that check_generated.py reads:
    # fuzz-int: NAME BOUND      an int input whose values must lie in 0..BOUND-1
    # fuzz-features: a b c      the constructs the model uses (the coverage histogram)
"""
import argparse
import math
import os
import random

# Dims with a fixed index-variable letter; other dims take letters from FREE_VARS. Tensor
# names have two or more characters and summation variables are i1, i2, ..., so index
# variables never clash with tensor names.
DIM_VAR = {'B': 'b', 'T': 't', 'X': 'x', 'Y': 'y', 'L': 'l'}
FREE_VARS = ['j', 'k', 'm', 'n', 'p', 'q', 'r', 'u', 'v', 'w', 'z']


class Ten:
    """A pool tensor: name, axes (dim names), rough magnitude of its elements."""
    def __init__(self, name, axes, scale):
        self.name, self.axes, self.scale, self.used = name, list(axes), scale, False


class E:
    """An expression's text and the rough magnitude of its value."""
    def __init__(self, text, scale):
        self.text, self.scale = text, scale


class Ctx:
    """The index variables in scope in one equation (left side, enclosing binders). Summation
    variables are fresh per equation (a shared counter), so two contractions never share an
    index and implicit summation closes exactly where the builder meant it to. `covered`
    collects the left-side variables that some simple subscript gives a range."""
    def __init__(self, vars_, counter=None, covered=None):
        self.vars = list(vars_)
        self.counter = counter if counter is not None else [0]
        self.covered = covered if covered is not None else set()

    def fresh(self):
        self.counter[0] += 1
        return 'i%d' % self.counter[0]

    def extend(self, var, dim):
        return Ctx(self.vars + [(var, dim)], self.counter, self.covered)

    def match(self, axes):
        """A distinct variable of this context for each axis (None where none fits)."""
        taken, out = set(), []
        for d in axes:
            v = next((v for v, dd in self.vars if dd == d and v not in taken), None)
            taken.add(v)
            out.append(v)
        return out


def lhs_vars(axes):
    """(variable, dim) for a left side with these axes; two axes of one dim get two letters."""
    used, out, free = set(), [], iter(FREE_VARS)
    for d in axes:
        v = DIM_VAR.get(d)
        while v is None or v in used:
            v = next(free)
        used.add(v)
        out.append((v, d))
    return out


def names(axes):
    return [v for v, _ in lhs_vars(axes)]


def ref(name, subs):
    return '%s[%s]' % (name, ', '.join(subs)) if subs else name


def is_bc(t):
    """A [B, C] tensor: logits for labels, argmax and cross_entropy."""
    return len(t.axes) == 2 and t.axes[0] == 'B' and t.axes[1] != 'B'


# name: (format, magnitude of the result given the argument's magnitude s)
UNARY = {'tanh': ('tanh(%s)', lambda s: 1), 'sigmoid': ('sigmoid(%s)', lambda s: 1),
         'relu': ('relu(%s)', lambda s: s), 'leaky': ('leaky_relu(%s, 0.1)', lambda s: s),
         'softplus': ('softplus(%s)', lambda s: s + 0.7), 'abs': ('abs(%s)', lambda s: s),
         'sin': ('sin(%s)', lambda s: 1), 'cos': ('cos(%s)', lambda s: 1),
         'exp': ('exp(%s)', math.exp), 'expsq': ('exp(-(%s)^2)', lambda s: 1),
         'log1p2': ('log(1 + (%s)^2)', lambda s: math.log(1 + s * s)),
         'logsig': ('log(sigmoid(%s))', lambda s: s + 0.7),
         'sqrt': ('sqrt((%s)^2 + 0.5)', lambda s: math.sqrt(s * s + 0.5)),
         'rsqrt': ('rsqrt(1 + (%s)^2)', lambda s: 1), 'sq': ('(%s)^2', lambda s: s * s),
         'cube': ('0.5*(%s)^3', lambda s: 0.5 * s ** 3), 'inv': ('(1 + (%s)^2)^-1', lambda s: 1),
         'clip': ('clip(%s, -0.8, 0.8)', lambda s: 0.8), 'stopgrad': ('stop_gradient(%s)', lambda s: s)}


class Gen:
    def __init__(self, seed, index, max_dim=6):
        self.rng, self.max_dim = random.Random(seed * 100003 + index), max_dim
        self.name = 'gen_%d_%d' % (seed, index)
        self.dims, self.dim_lines, self.decls, self.eqs, self.defs = {}, [], [], [], []
        self.pool, self.ints, self.int_bounds, self.kl = [], [], {}, []
        self.feat, self.std, self.n = set(), False, 0

    # ------------------------------------------------------------ helpers ---
    def r(self, a, b): return self.rng.randint(a, b)
    def ch(self, xs): return self.rng.choice(xs)
    def p(self, prob): return self.rng.random() < prob
    def fdim(self): return self.ch(['D1', 'D2', 'D3'])

    def eq(self, text, *tags):
        self.eqs.append(text)
        self.feat.update(tags)

    def fresh(self, prefix):
        self.n += 1
        return '%s%d' % (prefix, self.n)

    def dim(self, name, value, expr=None):
        if name not in self.dims:
            self.dims[name] = value
            self.dim_lines.append('dim %s = %s' % (name, expr or value))
        return name

    def add(self, name, axes, scale=1.0):
        self.pool.append(Ten(name, axes, scale))
        return self.pool[-1]

    def use(self, *ts):
        for t in ts:
            t.used = True
        return ts[0]

    def pick(self, pred=lambda t: True):
        """A pool tensor satisfying pred, preferring ones nothing reads yet."""
        cands = [t for t in self.pool if pred(t)]
        unused = [t for t in cands if not t.used]
        return self.ch(unused if unused and self.p(0.7) else cands) if cands else None

    def seq(self):
        return self.pick(lambda t: len(t.axes) == 3 and t.axes[:2] == ['B', 'T'])

    def input(self, axes):
        name = self.fresh('in')
        self.decls.append('input %s[%s]' % (name, ', '.join(axes)))
        return self.add(name, axes, 0.5)

    def int_input(self, axes, bound_dim):
        name = self.fresh('tok')
        self.decls.append('input %s[%s] : int' % (name, ', '.join(axes)))
        self.int_bounds[name] = self.dims[bound_dim]
        self.ints.append((name, axes, bound_dim))
        self.feat.add('int_input')
        return name

    def param(self, axes, role, fan_in=1, init=None):
        """Declares a parameter; returns (name, typical magnitude of an element)."""
        name, fan = self.fresh('W' if role == 'weight' else 'c'), max(fan_in, 2)
        text, std = init or self.ch({
            'weight': [('he()', math.sqrt(2 / fan)), ('lecun()', math.sqrt(1 / fan)),
                       ('xavier()', math.sqrt(1 / fan)), ('normal(0.3)', 0.3),
                       ('uniform(-0.5, 0.5)', 0.3), ('he(fan_in=%d)' % fan, math.sqrt(2 / fan))],
            'scalar': [('constant(0.5)', 0.5), ('uniform(0.2, 0.8)', 0.8)],
            'bias': [('zeros()', 0.0), ('constant(0.1)', 0.1), ('ones()', 1.0), ('normal(0.2)', 0.2),
                     ('uniform(-0.2, 0.2)', 0.2)]}[role])
        self.feat.add('init_' + text.split('(')[0] + ('_fan' if 'fan_in' in text else ''))
        self.decls.append('param %s%s = %s' % (name, '[%s]' % ', '.join(axes) if axes else '', text))
        return name, std

    # ------------------------------------------------------- expressions ---
    def read(self, t, ctx, vs=None):
        vs = vs or ctx.match(t.axes)
        if None in vs:
            return None
        ctx.covered.update(vs)
        return E(ref(self.use(t).name, vs), t.scale)

    def leaf(self, ctx):
        kinds = ['read'] * 5 + ['contract'] * 3 + ['bias', 'reduce', 'reduce', 'dot', 'scalar',
                                                   'shift', 'window', 'count', 'softmax', 'indirect']
        for _ in range(8):
            e = getattr(self, 'leaf_' + self.ch(kinds))(ctx)
            if e:
                return e
        return self.leaf_bias(ctx)

    def leaf_read(self, ctx):
        t = self.pick(lambda t: None not in ctx.match(t.axes))
        return t and self.read(t, ctx)

    def leaf_bias(self, ctx):
        v, d = self.ch([vd for vd in ctx.vars if vd[1] not in ('B', 'T')] or ctx.vars[-1:])
        name, std = self.param([d], 'bias')
        ctx.covered.add(v)
        return E(ref(name, [v]), std)

    def leaf_scalar(self, ctx):
        if self.p(0.5):
            self.feat.add('scalar_param')
            return E(*self.param([], 'scalar'))
        self.feat.add('const')
        self.decls.append('const %s = %s' % (self.fresh('k'), self.ch(['0.3', '0.7', '1.5', '-0.4'])))
        return E('k%d' % self.n, 1.5)

    def bind(self, t, ctx, vs):
        """Fresh variables where vs has None; returns ([(var, dim)], product of sizes)."""
        fresh, n = [], 1
        for k, v in enumerate(vs):
            if v is None:
                vs[k] = ctx.fresh()
                fresh.append((vs[k], t.axes[k]))
                n *= self.dims[t.axes[k]]
        ctx.covered.update(v for v in vs if v not in dict(fresh))
        self.use(t)
        return fresh, n

    def leaf_contract(self, ctx):
        """W[j, i]*S[..., i]: the axes of S the context lacks are summed (implicitly) against
        a new weight whose other axis is one of the context's."""
        t = self.pick(lambda t: 1 <= ctx.match(t.axes).count(None) <= 2)
        if not t:
            return None
        out, vs = self.ch([vd for vd in ctx.vars if vd[1] != 'B'] or ctx.vars), ctx.match(t.axes)
        summed, fan = self.bind(t, ctx, vs)
        w, std = self.param([out[1]] + [d for _, d in summed], 'weight', fan)
        ctx.covered.add(out[0])
        self.feat.add('contraction' if len(summed) == 1 else 'contraction_multi')
        return E('%s*%s' % (ref(w, [out[0]] + [v for v, _ in summed]), ref(t.name, vs)),
                 math.sqrt(fan) * std * t.scale)

    def leaf_dot(self, ctx):
        """c*S1[..., i]*S2[..., i]: two pool tensors summed over an axis the context lacks."""
        def lone(t):
            vs = ctx.match(t.axes)
            return t.axes[vs.index(None)] if vs.count(None) == 1 else None
        t1 = self.pick(lone)
        if not t1:
            return None
        d, i, subs = lone(t1), ctx.fresh(), []
        t2 = self.pick(lambda t: lone(t) == d)
        for t in (t1, t2):
            vs = [v or i for v in ctx.match(t.axes)]
            ctx.covered.update(v for v in vs if v != i)
            subs.append(ref(self.use(t).name, vs))
        self.feat.add('dot_two_tensors')
        return E('%s*%s*%s' % (1.0 / self.dims[d], subs[0], subs[1]), t1.scale * t2.scale)

    def leaf_reduce(self, ctx):
        """OP(i, ...: body) over the axes of S the context lacks (or a re-bound one); the body
        may multiply in an expression of the binder's extended context."""
        t = self.pick(lambda t: len(t.axes) >= 2 and ctx.match(t.axes).count(None) <= 2)
        if not t:
            return None
        vs = ctx.match(t.axes)
        if None not in vs:   # re-bind a non-leading axis the context has
            vs[self.r(1, len(vs) - 1)] = None
        bound, n = self.bind(t, ctx, vs)
        inner = ctx
        for v, d in bound:
            inner = inner.extend(v, d)
        body = E(ref(t.name, vs), t.scale)
        body = self.unary(body) if self.p(0.5) else body
        if self.p(0.3):
            o = self.expr(inner, 1)
            body = self.tame(E('(%s)*(%s)' % (body.text, o.text), body.scale * o.scale))
            self.feat.add('reduce_body_expr')
        op = self.ch(['sum', 'mean', 'max', 'min', 'logsumexp'])
        self.feat.update(['reduce_' + op] + (['reduce_multi'] if len(bound) > 1 else []))
        text = '%s(%s: %s)' % (op, ', '.join(v for v, _ in bound), body.text)
        if op == 'sum':
            return self.tame(E('0.3*' + text, 0.3 * n * body.scale))
        return self.tame(E(text, body.scale + (math.log(n) if op == 'logsumexp' else 0)))

    def leaf_count(self, ctx):
        t = self.pick(lambda t: ctx.match(t.axes).count(None) == 1)
        if not t:
            return None
        vs = ctx.match(t.axes)
        ((i, _),), _ = self.bind(t, ctx, vs)
        self.feat.add('count')
        return E('sum(%s: %s)/count(%s)' % (i, ref(t.name, vs), i), t.scale)

    def leaf_shift(self, ctx):
        """A padded read S[b, t-1, j] or S[b, t+2, j] (zero outside the range)."""
        t = self.pick(lambda t: 'T' in t.axes and None not in ctx.match(t.axes))
        if not t:
            return None
        e, vs = self.read(t, ctx), ctx.match(t.axes)
        vs[t.axes.index('T')] += self.ch([' - 1', ' + 1', ' - 2', ' + 2'])
        self.feat.add('padded_shift')
        return E(ref(t.name, vs), e.scale)

    def leaf_window(self, ctx):
        """K[o, i, dt]*S[b, t + dt - 1, i]: a convolution over time with zero padding 1; dt
        takes its range from the kernel's axis of 3, t from S (a `v + e` subscript)."""
        t, (vb, vt) = self.seq(), ctx.match(['B', 'T'])
        if not t or vt is None or vb is None:
            return None
        out = self.ch([vd for vd in ctx.vars if vd[1] not in ('B', 'T')] or ctx.vars[-1:])
        i, dt, fan = ctx.fresh(), ctx.fresh(), 3 * self.dims[t.axes[2]]
        w, std = self.param([out[1], t.axes[2], '3'], 'weight', fan)
        ctx.covered.update([vb, vt, out[0]])
        self.use(t)
        self.feat.add('window_conv')
        return E('%s*%s' % (ref(w, [out[0], i, dt]), ref(t.name, [vb, '%s + %s - 1' % (vt, dt), i])),
                 math.sqrt(fan) * std * t.scale)

    def leaf_softmax(self, ctx):
        """softmax(v: S[..., v]) with v a variable in scope, left free for the enclosing
        expression (a left-side index or a binder's)."""
        t = self.pick(lambda t: None not in ctx.match(t.axes))
        if not t:
            return None
        e, vs = self.read(t, ctx), ctx.match(t.axes)
        k = t.axes.index(self.ch([d for d in t.axes if d != 'B'] or t.axes))
        op = self.ch(['softmax', 'log_softmax'])
        self.feat.add(op)
        return E('%s(%s: %s)' % (op, vs[k], e.text),
                 1 if op == 'softmax' else math.log(self.dims[t.axes[k]]) + 2 * e.scale)

    def leaf_indirect(self, ctx):
        """E[tok[...], j]: an int input (values drawn in range) indexing a parameter's rows."""
        ok = [(n, a, bd) for n, a, bd in self.ints if None not in ctx.match(a)]
        if not ok:
            return None
        (tok, axes, bound), (v, d) = self.ch(ok), self.ch(ctx.vars)
        w, _ = self.param([bound, d], 'bias', init=('normal(0.5)', 0.5))
        ctx.covered.update(ctx.match(axes) + [v])
        self.feat.add('embedding_indirect')
        return E(ref(w, [ref(tok, ctx.match(axes)), v]), 0.5)

    def tame(self, e, limit=3.0):
        """Wraps a value that may be large in tanh (keeps exp and powers in range)."""
        return E('tanh(%s)' % e.text, 1.0) if e.scale > limit else e

    def unary(self, e):
        op = self.ch(sorted(UNARY))
        op = 'tanh' if op == 'stopgrad' and self.p(0.7) else op
        if (op == 'exp' and e.scale > 1.5) or (op in ('sq', 'cube') and e.scale > 2):
            e = E('tanh(%s)' % e.text, 1.0)
        self.feat.add('fn_' + op)
        fmt, scale = UNARY[op]
        return self.tame(E(fmt % e.text, scale(e.scale)))

    def cond(self, ctx):
        """A comparison: of index variables as values, of an int input, of an f32 value, or
        the constant `training`."""
        k = self.r(0, 4)
        ints = [(n, a, bd) for n, a, bd in self.ints if None not in ctx.match(a)]
        if k == 0 and len(ctx.vars) >= 2:
            self.feat.add('index_value')
            (a, _), (b, _) = self.rng.sample(ctx.vars, 2)
            return '%s %s %s' % (a, self.ch(['<', '<=', '>', '!=']), b)
        if k == 1:
            self.feat.add('training_const')
            return 'training'
        if k == 2 and ints:
            self.feat.add('int_compare')
            tok, axes, bound = self.ch(ints)
            return '%s %s %d' % (ref(tok, ctx.match(axes)), self.ch(['==', '<', '>=']), self.dims[bound] // 2)
        self.feat.add('compare')
        a = self.leaf_read(ctx) or self.leaf_bias(ctx)
        # Thresholds differ from every constant initializer (0.1 in f32 is not 0.1 in f64).
        return '%s %s %s' % (a.text, self.ch(['>', '<', '>=']), self.ch(['0.15', '-0.25', '0']))

    def expr(self, ctx, depth):
        if depth <= 0 or self.p(0.2):
            return self.leaf(ctx)
        k = self.rng.random()
        if k < 0.35:
            return self.unary(self.expr(ctx, depth - 1))
        op = 'where' if k > 0.85 else self.ch(['+', '-', '*', '/', 'max', 'min', 'mask', 'maxc'])
        # Every sub-expression built is used: its reads gave left-side variables their ranges.
        a = self.expr(ctx, depth - 1)
        if op == 'maxc':   # max/min with a number no initializer equals (a tie would differ)
            self.feat.add('fn_maxmin_const')
            return E('%s(%s, %s)' % (self.ch(['max', 'min']), a.text, self.ch(['0.15', '-0.25'])), a.scale)
        b = self.expr(ctx, depth - 1)
        if op == 'where':
            self.feat.add('where')
            return E('where(%s, %s, %s)' % (self.cond(ctx), a.text, b.text), max(a.scale, b.scale))
        op = '+' if op in ('max', 'min') and a.text == b.text else op   # never a tie by construction
        self.feat.add({'+': 'add', '-': 'sub', '*': 'mul', '/': 'div', 'max': 'fn_max', 'min': 'fn_min',
                       'mask': 'compare_as_value'}[op])
        if op == '*':
            return self.tame(E('(%s)*(%s)' % (a.text, b.text), a.scale * b.scale))
        if op == '/':
            return E('(%s)/(1 + (%s)^2)' % (a.text, b.text), a.scale)
        if op == 'mask':
            return E('(%s)*(%s > %s)' % (a.text, b.text, self.ch(['0', '0.25'])), a.scale)
        if op in ('max', 'min'):
            return E('%s(%s, %s)' % (op, a.text, b.text), max(a.scale, b.scale))
        return self.tame(E('(%s) %s 0.5*(%s)' % (a.text, op, b.text), a.scale + b.scale / 2))

    def equation(self, axes, build, prefix='t'):
        """name[axes] = build(ctx); left-side variables no simple read gave a range get a
        `for` clause."""
        name, vars_ = self.fresh(prefix), lhs_vars(axes)
        ctx = Ctx(vars_)
        e = self.tame(build(ctx), 2.5)
        fors = ['%s in 0..%s' % (v, d) for v, d in vars_ if v not in ctx.covered]
        self.eq('%s = %s%s' % (ref(name, [v for v, _ in vars_]), e.text, ' for ' + ', '.join(fors) if fors else ''),
                *(['for_clause'] if fors else []))
        return self.add(name, axes, e.scale)

    # ------------------------------------------------------------ blocks ---
    def blk_elementwise(self):
        axes = list(self.pick(lambda t: len(t.axes) <= 4).axes)
        if self.p(0.25) and axes[-1] not in ('B', 'T', 'X', 'Y'):
            axes[-1] = self.fdim()   # the anchor's last axis must then be summed or reduced
        self.equation(axes, lambda c: self.expr(c, self.r(1, 3)))

    def blk_whole(self):
        """A whole-tensor equation over tensors of one shape, and a scalar."""
        t, name = self.pick(), self.fresh('wt')
        a, b = self.ch([u for u in self.pool if u.axes == t.axes]), self.pick(lambda u: u.axes == t.axes)
        s = self.param([], 'scalar')[0] if self.p(0.5) else '0.5'
        self.eq('%s = %s(%s) - %s*%s' % (name, self.ch(['tanh', 'sigmoid', 'softplus']), a.name, s, b.name),
                'whole_tensor')
        self.use(a, b)
        self.add(name, t.axes, 1 + b.scale)

    def blk_dense(self):
        t = self.pick(lambda t: len(t.axes) >= 2)
        axes, fan = t.axes[:-1] + [self.fdim()], self.dims[t.axes[-1]]

        def build(ctx):
            vs = ctx.match(axes)
            w, std = self.param([axes[-1], t.axes[-1]], 'weight', fan)
            c, _ = self.param([axes[-1]], 'bias')
            e = self.read(t, ctx, vs[:-1] + [ctx.fresh()])
            ctx.covered.add(vs[-1])
            return self.unary(E('%s*%s + %s' % (ref(w, [vs[-1], 'i1']), e.text, ref(c, [vs[-1]])),
                                math.sqrt(fan) * std * t.scale + 0.2))
        self.feat.add('matmul')
        self.equation(axes, build)

    def blk_softmax(self):
        t, s = self.pick(lambda t: len(t.axes) >= 2 and t.axes[-1] != 'B'), self.seq()
        if self.p(0.5):  # p[..., v] = softmax(v: z[..., v]), maybe inside a function
            self.equation(t.axes, lambda c: self.unary(self.leaf_softmax(c)) if self.p(0.3)
                          else self.leaf_softmax(c))
        elif self.p(0.5):  # entropy: v not on the left is summed over the product
            def build(ctx):
                vs = ctx.match(t.axes[:-1]) + [ctx.fresh()]
                e = self.read(t, ctx, vs)
                return E('-softmax(%s: %s)*log_softmax(%s: %s)' % (vs[-1], e.text, vs[-1], e.text), 2)
            self.feat.add('entropy')
            self.equation(t.axes[:-1], build)
        else:  # self-attention over time with a causal mask (an index variable as a value)
            att, out = self.fresh('att'), self.fresh('ctx')
            self.eq('%s[b, t, m] = softmax(m: where(m <= t, %s*%s[b, t, i1]*%s[b, m, i1], -1e9))'
                    % (att, 1.0 / self.dims[s.axes[2]], s.name, s.name), 'attention_causal')
            self.eq('%s[b, t, j] = %s[b, t, i1]*%s[b, i1, j]' % (out, att, s.name))
            self.add(out, s.axes, self.use(s).scale)

    def blk_embed(self):
        V, axes, D, k = self.dim('V', self.r(3, 6)), self.ch([['B'], ['B', 'T']]), self.fdim(), self.r(0, 3)
        tok, name = self.int_input(axes, V), self.fresh('em')
        sub, lhs = ref(tok, names(axes)), ref(name, names(axes) + ['j'])
        if k == 0:
            w, _ = self.param([V, D], 'bias', init=('normal(0.5)', 0.5))
            self.eq('%s = %s' % (lhs, ref(w, [sub, 'j'])), 'embedding_indirect')
        elif k == 1:  # an indirect index plus a constant, into a table with a spare row
            w, _ = self.param([self.dim('V1', self.dims[V] + 1, 'V + 1'), D], 'bias',
                              init=('uniform(-0.7, 0.7)', 0.7))
            self.eq('%s = %s*%s - %s' % (lhs, ref(w, [sub, 'j']), ref(w, [sub + ' + 1', 'j']),
                                         ref(w, [sub + ' + 1', 'j'])), 'indirect_plus_const')
        elif k == 2:
            self.std = True
            if self.p(0.5):  # an int copy feeding the call
                cp = self.fresh('tk')
                self.eq('%s = %s' % (ref(cp, names(axes)), sub), 'int_copy')
                tok = cp
            self.eq('%s = embedding(%s, V, %s)' % (name, tok, D), 'std_embedding')
        else:  # argmax gives an int tensor that indexes a parameter's rows
            t, am = self.use(self.pick(is_bc)), self.fresh('am')
            self.eq('%s[b] = argmax(j: %s[b, j])' % (am, t.name), 'argmax_indirect')
            w, _ = self.param([t.axes[1], D], 'bias')
            self.eq('%s[b, j] = %s[%s[b], j]*%s[b, 0]' % (name, w, am, t.name))
            axes = ['B']
        self.add(name, axes + [D])

    def blk_layout(self):
        k, s, name = self.r(0, 3), self.seq(), self.fresh('lay')
        t = self.pick(lambda t: is_bc(t) and t.axes[1] != 'T')
        d = t.axes[1]
        if k < 3:   # `used` only for what an equation reads: unread tensors join the loss
            self.use(t)
        if k == 0:  # concatenation with a second tensor
            u = self.use(self.pick(is_bc))
            cd = self.dim('C%s%s' % (d, u.axes[1]), self.dims[d] + self.dims[u.axes[1]], '%s + %s' % (d, u.axes[1]))
            self.eq('%s[b, k] = %s[b, k] + %s[b, k - %s] for k in 0..%s' % (name, t.name, u.name, d, cd), 'concat')
            self.add(name, ['B', cd], max(t.scale, u.scale))
        elif k == 1:  # zero-padding the features up to a larger size, shifted by one
            pd = self.dim('P%s' % d, self.dims[d] + 2, '%s + 2' % d)
            self.eq('%s[b, k] = %s[b, k - 1] for k in 0..%s' % (name, t.name, pd), 'pad_for')
            self.add(name, ['B', pd], t.scale)
        elif k == 2:
            self.eq('%s[j, b] = %s[b, j]' % (name, t.name), 'transpose')
            self.add(name, [d, 'B'], t.scale)
        else:  # subsampling a sequence by 2 (stride, for clause)
            T2 = self.dim('T2', (self.dims['T'] + 1) // 2, '(T + 1)/2')
            self.eq('%s[b, u, j] = 0.5*%s[b, 2*u, j] + 0.5*%s[b, 2*u + 1, j] for u in 0..T2'
                    % (name, s.name, s.name), 'stride_subsample')
            self.add(name, ['B', T2, s.axes[2]], self.use(s).scale)

    def boundary(self, name, pos, H):
        """Maybe a boundary equation name[b, pos, j]: a parameter, a pool row, an expression."""
        k = self.r(0, 3)
        v = self.pick(lambda t: t.axes == ['B', H]) if k > 1 else None
        if k == 0:
            return
        rhs = ('%s[b, j]' if k == 2 else 'tanh(%s[b, j])') % self.use(v).name if v else \
            '%s[j]' % self.param([H], 'bias')[0]
        self.eq('%s[b, %s, j] = %s' % (name, pos, rhs), 'rec_boundary')

    def rec_step(self, S, H, prev):
        """Σ W h[prev] + Σ U S[b, t, i] + c[j] (+ a random term, sometimes gated by h[prev])."""
        w, _ = self.param([H, H], 'weight', self.dims[H])
        u, _ = self.param([H, S.axes[2]], 'weight', self.dims[S.axes[2]])
        c, _ = self.param([H], 'bias')
        text = '%s[j, i1]*%s + %s[j, i2]*%s[b, t, i2] + %s[j]' % (w, prev % 'i1', u, S.name, c)
        if self.p(0.5):
            ctx = Ctx([('b', 'B'), ('t', 'T'), ('j', H)], [10])
            x = self.expr(ctx, 2).text
            self.feat.add('rec_body_expr')
            text += ' + 0.5*tanh(%s)' % x if self.p(0.6) else ' + 0.5*%s*tanh(%s)' % (prev % 'j', x)
        return text

    def blk_rec(self):
        S, H, k, h = self.seq(), self.fdim(), self.r(0, 9), self.fresh('h')
        out, fwd = ['B', 'T', H], '%s[b, t-1, %%s]' % h
        if k != 4:   # the layer recurrence does not read S
            self.use(S)
        if k == 0:
            self.eq('%s[b, t, j] = tanh(%s)' % (h, self.rec_step(S, H, fwd)), 'rec_forward')
            self.boundary(h, '-1', H)
        elif k == 1:  # backward (boundary at T), sometimes two steps (T + 1), or bidirectional
            two = self.p(0.4)
            self.eq('%s[b, t, j] = tanh(%s%s)' % (h, self.rec_step(S, H, '%s[b, t+1, %%s]' % h),
                                                  ' - 0.4*%s[b, t+2, j]' % h if two else ''),
                    'rec_backward', *(['rec_two_step_backward'] if two else []))
            self.boundary(h, 'T', H)
            if two:
                self.boundary(h, 'T + 1', H)
            if self.p(0.4):
                g, bi = self.fresh('h'), self.fresh('bi')
                self.eq('%s[b, t, j] = tanh(%s)' % (g, self.rec_step(S, H, '%s[b, t-1, %%s]' % g)))
                self.eq('%s[b, t, j] = %s[b, t, j]*%s[b, t, j]' % (bi, g, h), 'rec_bidirectional')
                self.add(bi, out)
        elif k == 2:  # two-step look-back, boundaries at -1 and -2
            self.eq('%s[b, t, j] = tanh(%s + 0.5*%s[b, t-2, j])' % (h, self.rec_step(S, H, fwd), h),
                    'rec_two_step')
            self.boundary(h, '-1', H)
            self.boundary(h, '-2', H)
        elif k == 3:  # an LSTM-ish pair; the gate with its time axis first
            c, g = self.fresh('cell'), self.fresh('gate')
            self.eq('%s[t, b, j] = sigmoid(%s)' % (g, self.rec_step(S, H, fwd)), 'rec_lstm_pair')
            self.eq('%s[b, t, j] = %s[t, b, j]*%s[b, t-1, j] + (1 - %s[t, b, j])*tanh(%s)'
                    % (c, g, c, g, self.rec_step(S, H, fwd)))
            self.eq('%s[b, t, j] = tanh(%s[b, t, j])*sigmoid(%s)' % (h, c, self.rec_step(S, H, fwd)))
            self.boundary(h, '-1', H)
            self.boundary(c, '-1', H)
            self.add(c, out)
        elif k == 4:  # layers: h[l] = tanh(W[l] h[l-1] + c[l]), h[-1] = a pool row
            v = self.pick(lambda t: t.axes == ['B', H]) or self.equation(['B', H], lambda c: self.expr(c, 1))
            L, last = self.dim('L', self.r(2, 3)), self.fresh('last')
            w, _ = self.param(['L', H, H], 'weight', self.dims[H])
            c, _ = self.param(['L', H], 'bias')
            self.eq('%s[l, b, j] = tanh(%s[l, j, i1]*%s[l-1, b, i1] + %s[l, j])' % (h, w, h, c), 'rec_layers')
            self.eq('%s[-1, b, j] = %s[b, j]' % (h, self.use(v).name))
            self.eq('%s[b, j] = %s[L-1, b, j]' % (last, h))
            self.add(last, ['B', H])
            out = [L, 'B', H]
        elif k == 5:  # a table along two axes (t, then j), a diagonal read
            a, _ = self.param([], 'scalar')
            self.eq('%s[t, j] = tanh(%s*%s[t-1, j] + 0.3*%s[t, j-1] + 0.2*%s[t-1, j-1] + %s[0, t, j])'
                    % (h, a, h, h, h, S.name), 'rec_2d')
            out = ['T', S.axes[2]]
        elif k == 6:  # greedy decoding: an argmax fed back as an indirect index
            V, dec = self.dim('V', self.r(3, 6)), self.fresh('dec')
            w, _ = self.param([V, H], 'weight', self.dims[H])
            e, _ = self.param([V, H], 'bias')
            self.eq('%s[b, t] = argmax(v: %s[v, j]*%s[b, t-1, j])' % (dec, w, h), 'rec_greedy_argmax')
            self.eq('%s[b, t, j] = tanh(%s[%s[b, t], j] + %s)' % (h, e, dec, self.rec_step(S, H, fwd)))
        elif k == 7:  # a step attending over the whole input sequence (softmax over m)
            H = S.axes[2]
            att, w, out = self.fresh('att'), self.param([H, H], 'weight', self.dims[H])[0], ['B', 'T', H]
            self.eq('%s[b, t, m] = softmax(m: 0.5*%s[b, t-1, i1]*%s[b, m, i1])' % (att, h, S.name), 'rec_attention')
            self.eq('%s[b, t, j] = tanh(%s[b, t, m]*%s[b, m, j] + %s[j, i1]*%s[b, t-1, i1] + %s[b, t, j])'
                    % (h, att, S.name, w, h, S.name))
            self.boundary(h, '-1', H)
        elif k == 8:  # stacked layers over time: nested, recurring along l and t
            H, L, top = S.axes[2], self.dim('L', self.r(2, 3)), self.fresh('top')
            wx, _ = self.param(['L', H, H], 'weight', self.dims[H])
            wh, _ = self.param(['L', H, H], 'weight', self.dims[H])
            self.eq('%s[l, b, t, j] = tanh(%s[l, j, i1]*%s[l-1, b, t, i1] + %s[l, j, i2]*%s[l, b, t-1, i2])'
                    % (h, wx, h, wh, h), 'rec_nested_layers_time')
            self.eq('%s[-1, b, t, j] = %s[b, t, j]' % (h, S.name))
            self.eq('%s[b, t, j] = %s[L-1, b, t, j]' % (top, h))
            self.add(top, ['B', 'T', H])
            out = ['L', 'B', 'T', H]
        else:  # an indirect read inside the step (token embeddings fed to an RNN)
            V = self.dim('V', self.r(3, 6))
            tok = self.int_input(['B', 'T'], V)
            e, _ = self.param([V, H], 'bias', init=('normal(0.5)', 0.5))
            self.eq('%s[b, t, j] = tanh(%s[%s[b, t], j] + %s)' % (h, e, tok, self.rec_step(S, H, fwd)),
                    'rec_embedding')
            self.boundary(h, '-1', H)
        if out == ['B', 'T', H] and self.p(0.3):  # an equation outside the group reads the boundary
            z = self.fresh('rz')
            self.eq('%s[b, t, j] = %s[b, t-1, j]*%s[b, t, j]' % (z, h, h), 'rec_read_outside')
            self.add(z, out)
        elif out == ['B', 'T', H] and self.p(0.3):  # the state after the last (or first) step
            z = self.fresh('fin')
            self.eq('%s[b, j] = %s[b, %s, j]' % (z, h, self.ch(['T-1', '0'])), 'rec_read_const_pos')
            self.add(z, ['B', H])
        self.add(h, out)

    def blk_std(self):
        self.std, name = True, self.fresh('s')
        k = self.ch(['dense', 'rnn', 'gru', 'ugrnn', 'lstm', 'conv', 'norm', 'dropout'])
        t = self.pick(lambda t: len(t.axes) >= 2 and t.axes[-1] != 'B')
        axes, scale = t.axes, 1.0
        if k == 'norm':
            # Normalizing two values gives ±1 whatever they are: the gradient is a difference
            # of equal terms, rounding noise in f32. So at least 3 values per statistic.
            norm = self.ch(['batchnorm', 'layernorm'])
            ok = (lambda u: u.axes[0] == 'B' and math.prod(self.dims[d] for d in u.axes[:-1]) >= 3) \
                if norm == 'batchnorm' else (lambda u: self.dims[u.axes[-1]] >= 3)
            t = self.pick(lambda u: len(u.axes) >= 2 and u.axes[-1] != 'B' and ok(u)) or t
            k = k if ok(t) else 'dropout'
        if k == 'dense':
            axes = t.axes[:-1] + [self.fdim()]
            self.eq('%s = %s(dense(%s, %s))' % (name, self.ch(['relu', 'tanh', 'sigmoid']), t.name, axes[-1]))
        elif k in ('rnn', 'gru', 'ugrnn', 'lstm'):
            t, H = self.seq(), self.fdim()
            axes = ['B', 'T', H]
            if k == 'lstm':
                c = self.fresh('sc')
                self.eq('%s, %s = lstm(%s, %s)' % (name, c, t.name, H))
                self.add(c, axes)
            else:
                self.eq('%s = %s(%s, %s)' % (name, k, t.name, H))
        elif k == 'conv':  # conv2d (stride, padding) and maybe maxpool; result dims declared
            t, (s, pad), k = self.image(), self.ch([(1, 1), (1, 0), (2, 1)]), 'conv2d'
            X2, Y2 = [self.dim('C%s%d%d' % (d, s, pad), (self.dims[d] + 2 * pad - 3) // s + 1,
                               '(%s + %d - 3)/%d + 1' % (d, 2 * pad, s)) for d in 'XY']
            self.eq('%s = tanh(conv2d(%s, 3, C, %d, %d))' % (name, t.name, s, pad))
            axes = ['B', X2, Y2, 'C']
            if self.dims[X2] >= 2 and self.dims[Y2] >= 2 and self.p(0.6):
                self.use(self.add(name, axes))
                name = self.fresh('mp')
                axes = ['B'] + [self.dim('M' + d, self.dims[d] // 2, d + '/2') for d in (X2, Y2)] + ['C']
                self.eq('%s = maxpool(%s, 2)' % (name, self.pool[-1].name), 'std_maxpool')
        elif k == 'norm':
            # Normalizing over an axis along which x is constant divides rounding noise by
            # sqrt(eps): f32 and f64 then differ by far more than 1e-4. Adding an input of the
            # same shape makes every position differ.
            k, nx, noise, axes = norm, self.fresh('nx'), self.input(t.axes), t.axes
            self.eq('%s = %s + %s' % (nx, t.name, self.use(noise).name))
            # sigmoid: Σ xhat² is constant, so a square loss right after would have a zero
            # gradient made of rounding noise.
            self.eq('%s = sigmoid(%s(%s))' % (name, k, nx))
            scale = 2.0
        else:
            self.eq('%s = dropout(%s, 0.3)' % (name, t.name))
            scale = 1.5 * t.scale
        self.use(t)
        self.feat.add('std_' + k)
        self.add(name, axes, scale)

    def image(self):
        im = self.pick(lambda t: t.axes == ['B', 'X', 'Y', 'C'])
        if not im:
            for d in 'XYC':
                self.dim(d, self.r(1, 3) if d == 'C' else self.r(3, 6))
            im = self.input(['B', 'X', 'Y', 'C'])
        return im

    def blk_conv(self):
        """A 3x3 convolution written out (padding 1, stride 1 or 2 with a for clause), and a
        max/min pooling binder with its own ranges over a padded window."""
        img, name, axes = self.use(self.image()), self.fresh('cv'), ['B', 'X', 'Y', 'C']
        K, _ = self.param(['C', '3', '3', 'C'], 'weight', 9 * self.dims['C'])
        if self.p(0.4):
            axes = ['B'] + [self.dim('S' + d, (self.dims[d] + 1) // 2, '(%s + 1)/2' % d) for d in 'XY'] + ['C']
            self.eq('%s[b, x, y, k] = tanh(%s[k, dx, dy, i1]*%s[b, 2*x + dx - 1, 2*y + dy - 1, i1])'
                    ' for x in 0..SX, y in 0..SY' % (name, K, img.name), 'conv2d_inline_stride2')
        else:
            self.eq('%s[b, x, y, k] = tanh(%s[k, dx, dy, i1]*%s[b, x + dx - 1, y + dy - 1, i1])'
                    % (name, K, img.name), 'conv2d_inline')
        self.add(name, axes)
        if self.p(0.5):
            P = self.fresh('pool')
            self.eq('%s[b, x, y, k] = %s(dx in 0..3, dy in 0..3: %s[b, x + dx - 1, y + dy - 1, k])'
                    ' for x in 0..%s, y in 0..%s' % (P, self.ch(['max', 'min']), name, axes[1], axes[2]),
                    'pool_binder')
            self.add(P, axes)

    def blk_def(self):
        k, t, name, f = self.r(0, 3), self.pick(lambda t: len(t.axes) >= 2), self.fresh('df'), self.fresh('fn')
        if k == 0:  # an elementwise def applied to indexed scalars
            self.defs.append('def %s(a, c) = tanh(a)*sigmoid(c) + 0.1*a' % f)
            u = self.pick(lambda u: u.axes == t.axes)
            self.feat.add('def_elementwise')
            return self.equation(t.axes, lambda c: E('%s(%s, %s)' % (f, self.read(t, c).text,
                                                                      self.read(u, c).text), 1.1))
        if k in (1, 3):  # a layer def with its own parameters over `...`
            self.defs.append('def %s(x[..., I], dim O) {\n  param W[O, I] = lecun()\n  param c[O] = normal(0.1)\n'
                             '  return tanh(W[o, i]*x[..., i] + c[o]) -> [..., o]\n}' % f)
            D = self.fdim()
            if k == 3:  # a def calling it twice and returning two tensors (h, g = ...)
                g, f2 = self.fresh('dg'), self.fresh('fn')
                self.defs.append('def %s(x[..., I], dim H) {\n  a = %s(x, H)\n  m1 = %s(a, I)\n'
                                 '  g[..., i] = sigmoid(m1[..., i])*x[..., i]\n  return a, g\n}' % (f2, f, f))
                self.eq('%s, %s = %s(%s, %s)' % (name, g, f2, t.name, D), 'def_nested_two_results')
                self.add(g, t.axes, t.scale)
            elif self.p(0.4):  # two calls in one statement (parameters NAME.W and NAME.2.W)
                self.eq('%s = %s(%s, %s) - 0.5*%s(%s, %s)' % (name, f, t.name, D, f, t.name, D), 'def_two_calls')
            else:
                self.eq('%s = %s(%s, %s)' % (name, f, t.name, D), 'def_layer')
            self.add(name, t.axes[:-1] + [D])
        else:  # a def reducing over its leading axes as a whole, count(...)
            self.defs.append('def %s(x[..., C]) {\n  param s[C] = ones()\n  mu[c] = mean(...: x[..., c])\n'
                             '  sq[c] = sum(...: (x[..., c] - mu[c])^2) / (count(...) - 1)\n'
                             '  return s[c]*(x[..., c] - mu[c])/sqrt(sq[c] + 1) -> [..., c]\n}' % f)
            self.eq('%s = %s(%s)' % (name, f, t.name), 'def_ellipsis_reduce')
            self.add(name, t.axes, 2 * t.scale)
        self.use(t)

    def blk_noise(self):
        """A VAE-like reparameterization with a noise tensor; kl_normal joins the loss."""
        D, ep, name = self.fdim(), self.fresh('eps'), self.fresh('zs')
        mu = self.equation(['B', D], lambda c: self.expr(c, 1))
        lv = self.equation(['B', D], lambda c: E('tanh(%s)' % self.expr(c, 1).text, 1))
        self.decls.append('noise %s[B, %s] = %s' % (ep, D, self.ch(['normal(1)', 'uniform(-1, 1)'])))
        self.eq('%s[b, j] = %s[b, j] + exp(0.5*%s[b, j])*%s[b, j]' % (name, mu.name, lv.name, ep), 'noise')
        self.use(mu, lv)
        self.add(name, ['B', D], mu.scale + 2)
        self.kl.append((mu.name, lv.name))

    def blk_state(self):
        """A state read by an equation, with an update rule (not applied by run --backward)."""
        t, st, name = self.use(self.pick(is_bc)), self.fresh('st'), self.fresh('sd')
        self.decls.append('state %s[%s] = %s' % (st, t.axes[1], self.ch(['ones()', 'normal(0.5)'])))
        self.eq('update %s[j] = 0.9*%s[j] + 0.1*mean(b: %s[b, j])' % (st, st, t.name), 'state_update')
        self.eq('%s[b, j] = %s[b, j]*%s[j]' % (name, t.name, st))
        self.add(name, t.axes, 2 * t.scale)

    def blk_scalar(self):
        """A scalar tensor read by name inside an indexed equation."""
        t, sc, name = self.use(self.pick()), self.fresh('sc'), self.fresh('ss')
        vs = names(t.axes)
        self.eq('%s = mean(%s: %s^2)' % (sc, ', '.join(vs), ref(t.name, vs)), 'scalar_tensor')
        self.eq('%s = tanh(%s)*%s' % (ref(name, vs), ref(t.name, vs), sc))
        self.add(name, t.axes, t.scale ** 2)

    # -------------------------------------------------------------- loss ---
    def loss_term(self, t):
        vs, k, bc = names(t.axes), self.r(0, 7), is_bc(t)
        all_, r = ', '.join(vs), ref(t.name, vs)
        if k in (1, 3) and not (k == 3 and bc):   # against a target input
            tg = self.use(self.input(t.axes))
            self.std |= k == 3
            self.feat.update(['std_mse'] if k == 3 else [])
            return 'mse(%s, %s)' % (t.name, tg.name) if k == 3 else 'sum(%s: %s*%s)' % (all_, r, ref(tg.name, vs))
        if k == 2:
            return '0.1*sum(%s: abs(%s))' % (all_, r)
        if k in (3, 5, 6):   # against int labels (k = 5, 6 only for logits, else the default)
            if not bc:
                return 'mean(%s: %s^2)' % (all_, r)
            lab = self.int_input(['B'], t.axes[1])
            self.feat.add({3: 'std_cross_entropy', 5: 'label_pick', 6: 'one_hot'}[k])
            self.std |= k == 3
            return {3: 'cross_entropy(%s, %s)' % (t.name, lab),
                    5: 'mean(b: logsumexp(j: %s[b, j]) - %s[b, %s[b]])' % (t.name, t.name, lab),
                    6: '-mean(b: sum(j: where(j == %s[b], 1, 0)*log_softmax(j: %s[b, j])))' % (lab, t.name)}[k]
        if k in (4, 7):
            self.std, f = True, self.ch(['l1', 'l2']) if k == 4 else 'bce_logits'
            self.feat.add('std_' + f)
            return '0.1*%s(%s)' % (f, t.name) if k == 4 else 'mean(%s: bce_logits(%s, 0.5))' % (all_, r)
        return 'mean(%s: %s^2)' % (all_, r)

    def build(self):
        for d, lo, hi in (('B', 2, 4), ('T', 2, 6), ('D1', 2, 6), ('D2', 2, 6), ('D3', 2, self.max_dim)):
            self.dim(d, self.r(lo, hi))
        self.input(['B', 'T', self.fdim()])
        self.input(['B', self.fdim()])
        blocks = [('elementwise', 4), ('whole', 1), ('dense', 2), ('softmax', 1.5), ('embed', 1.5),
                  ('layout', 1.5), ('rec', 3), ('std', 2.5), ('conv', 0.7), ('def', 1.2),
                  ('noise', 0.5), ('scalar', 0.5), ('state', 0.3)]
        for _ in range(self.r(5, 10)):
            getattr(self, 'blk_' + self.rng.choices(*zip(*blocks))[0])()
        # The loss depends on everything: every tensor nothing else reads gets a term.
        terms = [self.loss_term(t) for t in self.pool if not t.used]
        terms += ['kl_normal(%s, %s)' % kl for kl in self.kl]
        if self.kl:
            self.std = True
            self.feat.add('std_kl_normal')
        if self.p(0.5):  # the loss in named scalar parts
            parts = [self.fresh('lt') for _ in terms]
            self.eqs += ['%s = %s' % pt for pt in zip(parts, terms)]
            terms = parts
        self.eq('loss = ' + ' + '.join(self.ch(['', '0.5*', '0.25*']) + t for t in terms))
        made = [t for t in self.pool if not t.name.startswith('in')]
        bc = [t for t in made if is_bc(t)]
        if bc and self.p(0.3):
            t = self.ch(bc)
            self.eq('metric acc = mean(b: argmax(j: %s[b, j]) == %s[b])'
                    % (t.name, self.int_input(['B'], t.axes[1])), 'metric')
        if self.p(0.2):  # a training recipe (parsed and checked; run ignores it)
            self.eq(self.ch(['optimizer adam(lr = 1e-3)', 'optimizer sgd(0.1)', 'optimizer momentum(0.01, beta = 0.8)']),
                    'optimizer')
            if self.p(0.5):
                self.eq('clip_norm 5.0', 'clip_norm')
        if self.p(0.3):  # equations in any order: a name may be used before its line
            self.rng.shuffle(self.eqs)
            self.feat.add('shuffled_order')
        outs = [t.name for t in self.rng.sample(made, min(len(made), self.r(1, 3)))]
        lines = ['# Generated by tests/fuzz/gen_models.py (%s).' % self.name]
        lines += ['# fuzz-int: %s %d' % kv for kv in sorted(self.int_bounds.items())]
        lines += ['# fuzz-features: ' + ' '.join(sorted(self.feat)), '']
        lines += (['import "std"', ''] if self.std else []) + [d + '\n' for d in self.defs]
        body = self.dim_lines + self.decls + self.eqs + ['output ' + ', '.join(outs), 'minimize loss']
        return '\n'.join(lines + ['model %s {' % self.name] + ['  ' + l for l in body] + ['}']) + '\n'


def generate(seed, index, max_dim=6):
    return Gen(seed, index, max_dim).build()


def main():
    ap = argparse.ArgumentParser(description='random valid gradc models')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--count', type=int, default=10)
    ap.add_argument('--out', required=True)
    ap.add_argument('--max-dim', type=int, default=6, help='largest size of the dim D3')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for i in range(a.count):
        text = generate(a.seed, i, a.max_dim)   # before opening, so a generator crash leaves no empty file
        with open(os.path.join(a.out, 'gen_%d_%d.grad' % (a.seed, i)), 'w') as f:
            f.write(text)


if __name__ == '__main__':
    main()
