#!/usr/bin/env python3
"""Generates random, valid gradc models for the native-vs-interpreter differential test.

    python3 gen_models.py --seed N --count K --out DIR    # writes DIR/gen_<N>_<i>.grad

A model is built from typed building blocks, never by trial and error: every tensor in the
pool carries its axes (dim names) and a rough magnitude, every read subscripts an axis with an
index variable of that axis's dim, and every expression is assembled so that values stay tame
(bounded activations, small weights), because float32 and float64 must agree to 1e-4.

Each file starts with comment lines the checker reads:
    # fuzz-int: NAME BOUND      an int input whose values must lie in 0..BOUND-1
    # fuzz-features: a b c      the constructs the model uses (for the coverage histogram)
"""
import argparse
import math
import os
import random

# Dims that have a fixed index-variable letter; other dims take letters from FREE_VARS.
DIM_VAR = {'B': 'b', 'T': 't', 'X': 'x', 'Y': 'y', 'L': 'l'}
FREE_VARS = ['j', 'k', 'm', 'n', 'p', 'q', 'r', 'u', 'v', 'w', 'z']


class Ten:
    """A pool tensor: name, axes (dim names), rough magnitude, varies over the batch."""
    def __init__(self, name, axes, scale, vb=True):
        self.name, self.axes, self.scale, self.vb = name, list(axes), scale, vb
        self.used = False


class E:
    """An expression: its text, rough magnitude, and whether it varies over the batch."""
    def __init__(self, text, scale, vb=False):
        self.text, self.scale, self.vb = text, scale, vb


class Ctx:
    """The index variables of one equation (left side and enclosing binders); summation
    variables i1, i2, ... are fresh per equation (shared counter), so two contractions in one
    expression never share an index and implicit summation closes where the builder meant."""
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
        """Distinct variables of this context for each axis (None where no variable fits)."""
        taken, out = set(), []
        for d in axes:
            cands = [v for v, dd in self.vars if dd == d and v not in taken]
            v = cands[0] if cands else None
            if v:
                taken.add(v)
            out.append(v)
        return out


def lhs_vars(axes):
    """Index variables for a left side with these axes (two axes of one dim get two letters)."""
    used, out = set(), []
    free = iter(FREE_VARS)
    for d in axes:
        v = DIM_VAR.get(d)
        if v is None or v in used:
            v = next(free)
            while v in used:
                v = next(free)
        used.add(v)
        out.append((v, d))
    return out


def ref(name, subs):
    return '%s[%s]' % (name, ', '.join(subs)) if subs else name


class Gen:
    def __init__(self, seed, index):
        self.rng = random.Random(seed * 100003 + index)
        self.name = 'gen_%d_%d' % (seed, index)
        self.dims = {}          # name -> value
        self.dim_lines = []
        self.decls = []         # input/param/noise/const lines
        self.eqs = []           # equation lines (blocks of lines kept together)
        self.defs = []
        self.pool = []
        self.int_bounds = {}    # int input -> exclusive upper bound of its values
        self.feat = set()
        self.std = False
        self.n = 0

    # ------------------------------------------------------------ helpers ---
    def r(self, a, b):
        return self.rng.randint(a, b)

    def ch(self, xs):
        return self.rng.choice(xs)

    def p(self, prob):
        return self.rng.random() < prob

    def fresh(self, prefix):
        self.n += 1
        return '%s%d' % (prefix, self.n)

    def dim(self, name, value=None, expr=None):
        if name not in self.dims:
            self.dims[name] = value
            self.dim_lines.append('dim %s = %s' % (name, expr if expr else value))
        return name

    def feature_dim(self):
        return self.ch(['D1', 'D2', 'D3'])

    def add(self, name, axes, scale, vb=True):
        t = Ten(name, axes, scale, vb)
        self.pool.append(t)
        return t

    def pick(self, pred=lambda t: True, prefer_unused=True):
        cands = [t for t in self.pool if pred(t)]
        if not cands:
            return None
        unused = [t for t in cands if not t.used]
        t = self.ch(unused if unused and prefer_unused and self.p(0.7) else cands)
        return t

    def input(self, axes, scale=0.5):
        name = self.fresh('in')
        self.decls.append('input %s[%s]' % (name, ', '.join(axes)))
        return self.add(name, axes, scale)

    def int_input(self, axes, bound_dim):
        name = self.fresh('tok')
        self.decls.append('input %s[%s] : int' % (name, ', '.join(axes)))
        self.int_bounds[name] = self.dims[bound_dim]
        self.feat.add('int_input')
        return name

    def param(self, axes, role, fan_in=1, init=None):
        """Declares a parameter; returns (name, typical magnitude of an element)."""
        name = self.fresh('W' if role == 'weight' else 'c')
        shape = '[%s]' % ', '.join(axes) if axes else ''
        given = init
        if given:
            init, std = given
            k = init.split('(')[0]
        elif role == 'weight':
            k = self.ch(['he', 'lecun', 'xavier', 'normal', 'uniform', 'he_fan'])
            init, std = {'he': ('he()', math.sqrt(2 / fan_in)),
                         'lecun': ('lecun()', math.sqrt(1 / fan_in)),
                         'xavier': ('xavier()', math.sqrt(1 / fan_in)),
                         'normal': ('normal(0.3)', 0.3),
                         'uniform': ('uniform(-0.5, 0.5)', 0.3),
                         'he_fan': ('he(fan_in=%d)' % max(fan_in, 2), math.sqrt(2 / max(fan_in, 2))),
                         }[k]
        elif role == 'scalar':
            k = self.ch(['constant', 'uniform'])
            init, std = {'constant': ('constant(0.5)', 0.5), 'uniform': ('uniform(0.2, 0.8)', 0.8)}[k]
        else:
            k = self.ch(['zeros', 'constant', 'normal', 'uniform', 'ones'])
            init, std = {'zeros': ('zeros()', 0.0), 'constant': ('constant(0.1)', 0.1),
                         'normal': ('normal(0.2)', 0.2), 'uniform': ('uniform(-0.2, 0.2)', 0.2),
                         'ones': ('ones()', 1.0)}[k]
        self.feat.add('init_' + k)
        self.decls.append('param %s%s = %s' % (name, shape, init))
        return name, std

    # ------------------------------------------------------- expressions ---
    def read(self, t, ctx):
        """t read with the context's variables (None if some axis has no variable)."""
        vs = ctx.match(t.axes)
        if None in vs:
            return None
        t.used = True
        ctx.covered.update(vs)
        return E(ref(t.name, vs), t.scale, t.vb and 'B' in t.axes)

    def leaf(self, ctx):
        kinds = ['read'] * 5 + ['contract'] * 3 + ['bias', 'reduce', 'reduce', 'dot', 'scalar',
                                                   'shift', 'window', 'count']
        for _ in range(8):
            e = getattr(self, 'leaf_' + self.ch(kinds))(ctx)
            if e:
                return e
        return self.leaf_bias(ctx)

    def leaf_read(self, ctx):
        t = self.pick(lambda t: None not in ctx.match(t.axes))
        return self.read(t, ctx) if t else None

    def leaf_bias(self, ctx):
        dims = [d for _, d in ctx.vars if d not in ('B', 'T')] or [ctx.vars[-1][1]]
        d = self.ch(dims)
        name, std = self.param([d], 'bias')
        (v,) = ctx.match([d])
        ctx.covered.add(v)
        return E(ref(name, [v]), std)

    def leaf_scalar(self, ctx):
        if self.p(0.5):
            self.feat.add('scalar_param')
            name, std = self.param([], 'scalar')
            return E(name, std)
        self.feat.add('const')
        name = self.fresh('k')
        self.decls.append('const %s = %s' % (name, self.ch(['0.3', '0.7', '1.5', '-0.4'])))
        return E(name, 1.5)

    def leaf_contract(self, ctx):
        """W[j, i]*S[..., i]: the axes of S that the context lacks are summed against a new
        weight whose other axis is one of the context's (implicit summation)."""
        t = self.pick(lambda t: 1 <= ctx.match(t.axes).count(None) <= 2 and len(t.axes) <= 4)
        if not t:
            return None
        vs = ctx.match(t.axes)
        out = self.ch([(v, d) for v, d in ctx.vars if d != 'B'] or ctx.vars)
        summed = [(i, t.axes[i]) for i, v in enumerate(vs) if v is None]
        fan = 1
        for i, d in summed:
            vs[i] = ctx.fresh()
            fan *= self.dims[d]
        w, std = self.param([out[1]] + [d for _, d in summed], 'weight', fan)
        t.used = True
        ctx.covered.update(v for v in vs if not v.startswith('i'))
        ctx.covered.add(out[0])
        self.feat.add('contraction' if len(summed) == 1 else 'contraction_multi')
        return E('%s*%s' % (ref(w, [out[0]] + [vs[i] for i, _ in summed]), ref(t.name, vs)),
                 math.sqrt(fan) * std * t.scale, t.vb)

    def leaf_dot(self, ctx):
        """S1[..., i]*S2[..., i] for two pool tensors sharing an axis the context lacks."""
        t1 = self.pick(lambda t: ctx.match(t.axes).count(None) == 1)
        if not t1:
            return None
        d = t1.axes[ctx.match(t1.axes).index(None)]
        t2 = self.pick(lambda t: ctx.match(t.axes).count(None) == 1 and
                       t.axes[ctx.match(t.axes).index(None)] == d)
        i = ctx.fresh()
        subs = []
        for t in (t1, t2):
            vs = [v or i for v in ctx.match(t.axes)]
            ctx.covered.update(v for v in vs if v != i)
            t.used = True
            subs.append(ref(t.name, vs))
        self.feat.add('dot_two_tensors')
        n = self.dims[d]
        return E('%s*%s*%s' % (1.0 / n, subs[0], subs[1]), t1.scale * t2.scale, t1.vb or t2.vb)

    def leaf_reduce(self, ctx):
        """OP(i: f(S[..., i])) over one or two axes the context lacks, or over a context axis
        re-bound by the binder (then the binder variable shadows nothing: it is fresh)."""
        t = self.pick(lambda t: len(t.axes) >= 2 and ctx.match(t.axes).count(None) <= 2)
        if not t:
            return None
        vs = ctx.match(t.axes)
        if None not in vs:
            k = self.r(1, len(vs) - 1)  # rebind a non-leading axis
            vs[k] = None
        bound = []
        for k, v in enumerate(vs):
            if v is None:
                vs[k] = ctx.fresh()
                bound.append((vs[k], t.axes[k]))
        ctx.covered.update(v for v in vs if not v.startswith('i'))
        t.used = True
        body = E(ref(t.name, vs), t.scale)
        if self.p(0.5):
            body = self.unary(body)
        op = self.ch(['sum', 'mean', 'max', 'min', 'logsumexp'])
        self.feat.add('reduce_' + op)
        n = 1
        for _, d in bound:
            n *= self.dims[d]
        names = ', '.join(v for v, _ in bound)
        if len(bound) > 1:
            self.feat.add('reduce_multi')
        if op == 'sum':
            return self.tame(E('0.3*sum(%s: %s)' % (names, body.text), 0.3 * n * body.scale, t.vb))
        if op == 'logsumexp':
            return self.tame(E('logsumexp(%s: %s)' % (names, body.text), body.scale + math.log(n), t.vb))
        return E('%s(%s: %s)' % (op, names, body.text), body.scale, t.vb)

    def leaf_count(self, ctx):
        t = self.pick(lambda t: ctx.match(t.axes).count(None) == 1)
        if not t:
            return None
        vs = ctx.match(t.axes)
        k = vs.index(None)
        vs[k] = ctx.fresh()
        ctx.covered.update(v for v in vs if not v.startswith('i'))
        t.used = True
        self.feat.add('count')
        return E('sum(%s: %s)/count(%s)' % (vs[k], ref(t.name, vs), vs[k]), t.scale, t.vb)

    def leaf_shift(self, ctx):
        """A padded read S[b, t-1, j] or S[b, t+2, j] (zero outside the range)."""
        t = self.pick(lambda t: 'T' in t.axes and None not in ctx.match(t.axes))
        if not t:
            return None
        vs = ctx.match(t.axes)
        k = t.axes.index('T')
        ctx.covered.update(vs)
        vs[k] += self.ch([' - 1', ' + 1', ' - 2', ' + 2'])
        t.used = True
        self.feat.add('padded_shift')
        return E(ref(t.name, vs), t.scale, t.vb)

    def leaf_window(self, ctx):
        """A convolution-like window over time, K[o, i, dt]*S[b, t + dt - 1, i] (padding 1):
        dt takes its range from the kernel's axis of 3, t from the simple reads or S."""
        t = self.pick(lambda t: len(t.axes) == 3 and t.axes[:2] == ['B', 'T'])
        vs = ctx.match(['B', 'T'])
        if not t or None in vs:
            return None
        out = self.ch([(v, d) for v, d in ctx.vars if d not in ('B', 'T')] or [ctx.vars[-1]])
        i, dt = ctx.fresh(), ctx.fresh()
        fan = 3 * self.dims[t.axes[2]]
        w, std = self.param([out[1], t.axes[2], '3'], 'weight', fan)
        ctx.covered.update([vs[0], vs[1], out[0]])
        t.used = True
        self.feat.add('window_conv')
        return E('%s*%s' % (ref(w, [out[0], i, dt]), ref(t.name, [vs[0], '%s + %s - 1' % (vs[1], dt), i])),
                 math.sqrt(fan) * std * t.scale, t.vb)

    def tame(self, e, limit=3.0):
        """Wraps a value that may be large in tanh (keeps exp and powers in range)."""
        if e.scale > limit:
            return E('tanh(%s)' % e.text, 1.0, e.vb)
        return e

    def unary(self, e):
        ops = ['tanh', 'sigmoid', 'relu', 'leaky', 'softplus', 'abs', 'sin', 'cos', 'exp',
               'expsq', 'log1p2', 'sqrt', 'rsqrt', 'sq', 'cube', 'inv', 'clip', 'stopgrad']
        op = self.ch(ops)
        if op == 'stopgrad' and self.p(0.7):
            op = 'tanh'
        self.feat.add('fn_' + op)
        a, s = e.text, e.scale
        t = {'tanh': ('tanh(%s)' % a, 1), 'sigmoid': ('sigmoid(%s)' % a, 1),
             'relu': ('relu(%s)' % a, s), 'leaky': ('leaky_relu(%s, 0.1)' % a, s),
             'softplus': ('softplus(%s)' % a, s + 0.7), 'abs': ('abs(%s)' % a, s),
             'sin': ('sin(%s)' % a, 1), 'cos': ('cos(%s)' % a, 1),
             'exp': ('exp(%s)' % (a if s <= 1.5 else 'tanh(%s)' % a), math.exp(min(s, 1.5))),
             'expsq': ('exp(-(%s)^2)' % a, 1), 'log1p2': ('log(1 + (%s)^2)' % a, math.log(1 + s * s)),
             'sqrt': ('sqrt((%s)^2 + 0.5)' % a, math.sqrt(s * s + 0.5)),
             'rsqrt': ('rsqrt(1 + (%s)^2)' % a, 1),
             'sq': ('(%s)^2' % a, s * s), 'cube': ('0.5*(%s)^3' % a, 0.5 * s ** 3),
             'inv': ('(1 + (%s)^2)^-1' % a, 1), 'clip': ('clip(%s, -0.8, 0.8)' % a, 0.8),
             'stopgrad': ('stop_gradient(%s)' % a, s)}[op]
        return self.tame(E(t[0], t[1], e.vb))

    def cond(self, ctx):
        k = self.r(0, 3)
        if k == 0 and len(ctx.vars) >= 2:
            self.feat.add('index_value')
            (a, _), (b, _) = self.rng.sample(ctx.vars, 2)
            return '%s %s %s' % (a, self.ch(['<', '<=', '>', '!=']), b)
        if k == 1:
            self.feat.add('training_const')
            return 'training'
        self.feat.add('compare')
        a = self.leaf_read(ctx) or self.leaf_bias(ctx)
        return '%s %s %s' % (a.text, self.ch(['>', '<', '>=']), self.ch(['0.1', '-0.2', '0']))

    def expr(self, ctx, depth):
        if depth <= 0 or self.p(0.25):
            return self.leaf(ctx)
        k = self.rng.random()
        if k < 0.35:
            return self.unary(self.expr(ctx, depth - 1))
        a, b = self.expr(ctx, depth - 1), self.expr(ctx, depth - 1)
        vb = a.vb or b.vb
        if k < 0.8:
            op = self.ch(['+', '-', '*', '/', 'max', 'min'])
            if op in ('max', 'min') and a.text == b.text:
                op = '+'
            self.feat.add({'+': 'add', '-': 'sub', '*': 'mul', '/': 'div', 'max': 'fn_max',
                           'min': 'fn_min'}[op])
            if op == '*':
                return self.tame(E('(%s)*(%s)' % (a.text, b.text), a.scale * b.scale, vb))
            if op == '/':
                return E('(%s)/(1 + (%s)^2)' % (a.text, b.text), a.scale, vb)
            if op in ('max', 'min'):
                return E('%s(%s, %s)' % (op, a.text, b.text), max(a.scale, b.scale), vb)
            return self.tame(E('(%s) %s 0.5*(%s)' % (a.text, op, b.text), a.scale + b.scale / 2, vb))
        self.feat.add('where')
        return E('where(%s, %s, %s)' % (self.cond(ctx), a.text, b.text), max(a.scale, b.scale), vb)

    def equation(self, axes, build, final=True, name=None):
        """Defines name[axes] = build(ctx); left-side variables that no simple read gave a
        range get a `for` clause."""
        name = name or self.fresh('t')
        vars_ = lhs_vars(axes)
        ctx = Ctx(vars_)
        e = build(ctx)
        if final:
            e = self.tame(e, 2.5)
        fors = ['%s in 0..%s' % (v, d) for v, d in vars_ if v not in ctx.covered]
        if fors:
            self.feat.add('for_clause')
        self.eqs.append('%s = %s%s' % (ref(name, [v for v, _ in vars_]), e.text,
                                       ' for ' + ', '.join(fors) if fors else ''))
        return self.add(name, axes, e.scale, e.vb)

    # ------------------------------------------------------------ blocks ---
    def anchor_axes(self):
        t = self.pick(lambda t: len(t.axes) <= 4)
        axes = list(t.axes)
        if self.p(0.25) and axes[-1] not in ('B', 'T', 'X', 'Y'):
            axes[-1] = self.feature_dim()
        return axes

    def blk_elementwise(self):
        self.equation(self.anchor_axes(), lambda c: self.expr(c, self.r(1, 3)))

    def blk_whole(self):
        """A whole-tensor equation over tensors of one shape, and scalars."""
        t = self.pick(lambda t: True)
        same = [u for u in self.pool if u.axes == t.axes]
        name = self.fresh('wt')
        a, b = self.ch(same), self.ch(same)
        a.used = b.used = True
        f = self.ch(['tanh', 'sigmoid', 'softplus'])
        s = self.ch(['0.5', self.param([], 'scalar')[0]])
        self.eqs.append('%s = %s(%s) - %s*%s' % (name, f, a.name, s, b.name))
        self.feat.add('whole_tensor')
        self.add(name, t.axes, 1 + b.scale, a.vb or b.vb)

    def blk_dense(self):
        t = self.pick(lambda t: len(t.axes) >= 2)
        axes = t.axes[:-1] + [self.feature_dim()]

        def build(ctx):
            vs = ctx.match(axes)
            i = ctx.fresh()
            ctx.covered.update(vs)
            fan = self.dims[t.axes[-1]]
            w, std = self.param([axes[-1], t.axes[-1]], 'weight', fan)
            c, _ = self.param([axes[-1]], 'bias')
            t.used = True
            z = E('%s*%s + %s' % (ref(w, [vs[-1], i]), ref(t.name, vs[:-1] + [i]), ref(c, [vs[-1]])),
                  math.sqrt(fan) * std * t.scale + 0.2, t.vb)
            return self.unary(z)
        self.feat.add('matmul')
        self.equation(axes, build)

    def blk_softmax(self):
        t = self.pick(lambda t: len(t.axes) >= 2 and t.axes[-1] not in ('B',))
        k = self.r(0, 2)
        if k == 0:  # p[..., v] = softmax(v: z[..., v]) or log_softmax
            op = self.ch(['softmax', 'log_softmax'])
            self.feat.add(op)

            def build(ctx):
                e = self.read(t, ctx)
                v = ctx.match(t.axes)[-1]
                return E('%s(%s: %s)' % (op, v, e.text), 1 + math.log(self.dims[t.axes[-1]]), e.vb)
            self.equation(t.axes, build)
        elif k == 1:  # entropy: v not on the left is summed over the product
            self.feat.add('entropy')

            def build(ctx):
                vs = ctx.match(t.axes[:-1]) + [ctx.fresh()]
                ctx.covered.update(vs[:-1])
                z = ref(t.name, vs)
                t.used = True
                return E('-softmax(%s: %s)*log_softmax(%s: %s)' % (vs[-1], z, vs[-1], z), 2, t.vb)
            self.equation(t.axes[:-1], build)
        else:  # attention over time, with a causal mask (an index variable as a value)
            s = self.pick(lambda t: len(t.axes) == 3 and t.axes[:2] == ['B', 'T'])
            if not s:
                return self.blk_elementwise()
            self.feat.add('attention_causal')
            d = s.axes[2]
            n = 1.0 / self.dims[d]
            att = self.fresh('att')
            self.eqs.append('%s[b, t, m] = softmax(m: where(m <= t, %s*%s[b, t, i1]*%s[b, m, i1], -1e9))'
                            % (att, n, s.name, s.name))
            ctxn = self.fresh('ctx')
            self.eqs.append('%s[b, t, j] = %s[b, t, i1]*%s[b, i1, j]' % (ctxn, att, s.name))
            s.used = True
            self.add(ctxn, s.axes, s.scale, True)

    def blk_embed(self):
        V = self.dim('V', self.r(3, 6))
        k = self.r(0, 3)
        axes = self.ch([['B'], ['B', 'T']])
        D = self.feature_dim()
        tok = self.int_input(axes, V)
        sub = ref(tok, lhs_vars_names(axes))
        if k == 0:
            self.feat.add('embedding_indirect')
            E_, _ = self.param([V, D], 'bias', init=('normal(0.5)', 0.5))
            name = self.fresh('em')
            self.eqs.append('%s = %s' % (ref(name, lhs_vars_names(axes) + ['j']), ref(E_, [sub, 'j'])))
            self.add(name, axes + [D], 0.5)
        elif k == 1:
            self.feat.add('indirect_plus_const')
            V1 = self.dim('V1', self.dims[V] + 1, 'V + 1')
            E_, _ = self.param([V1, D], 'bias', init=('uniform(-0.7, 0.7)', 0.7))
            name = self.fresh('em')
            self.eqs.append('%s = %s*%s - %s' % (ref(name, lhs_vars_names(axes) + ['j']),
                                                  ref(E_, [sub, 'j']), ref(E_, [sub + ' + 1', 'j']),
                                                  ref(E_, [sub + ' + 1', 'j'])))
            self.add(name, axes + [D], 1.0)
        elif k == 2:
            self.feat.add('std_embedding')
            self.std = True
            name = self.fresh('em')
            if self.p(0.5):  # an int copy feeding the call
                self.feat.add('int_copy')
                cp = self.fresh('tk')
                self.eqs.append('%s = %s' % (ref(cp, lhs_vars_names(axes)), sub))
                tok = cp
            self.eqs.append('%s = embedding(%s, V, %s)' % (name, tok, D))
            self.add(name, axes + [D], 1.0)
        else:  # argmax gives an int tensor that indexes a parameter's rows
            t = self.pick(lambda t: len(t.axes) == 2 and t.axes[0] == 'B' and t.axes[1] != 'B')
            if not t:
                return self.blk_elementwise()
            self.feat.add('argmax_indirect')
            am = self.fresh('am')
            self.eqs.append('%s[b] = argmax(j: %s[b, j])' % (am, t.name))
            t.used = True
            w, _ = self.param([t.axes[1], D], 'bias')
            name = self.fresh('sel')
            self.eqs.append('%s[b, j] = %s[%s[b], j]*%s[b, 0]' % (name, w, am, t.name))
            self.add(name, ['B', D], 0.3 * t.scale)

    def blk_layout(self):
        k = self.r(0, 3)
        t = self.pick(lambda t: len(t.axes) == 2 and t.axes[0] == 'B' and t.axes[1] not in ('B', 'T'))
        if not t:
            return self.blk_elementwise()
        t.used = True
        d = t.axes[1]
        if k == 0:  # concatenation with a second tensor
            u = self.pick(lambda u: len(u.axes) == 2 and u.axes[0] == 'B' and u.axes[1] != 'B')
            u.used = True
            cd = self.dim('C%s%s' % (d, u.axes[1]), self.dims[d] + self.dims[u.axes[1]],
                          '%s + %s' % (d, u.axes[1]))
            name = self.fresh('cat')
            self.eqs.append('%s[b, k] = %s[b, k] + %s[b, k - %s] for k in 0..%s' % (name, t.name, u.name, d, cd))
            self.feat.add('concat')
            self.add(name, ['B', cd], max(t.scale, u.scale), t.vb or u.vb)
        elif k == 1:  # zero-padding the features up to a larger size
            pd = self.dim('P%s' % d, self.dims[d] + 2, '%s + 2' % d)
            name = self.fresh('pad')
            self.eqs.append('%s[b, k] = %s[b, k - 1] for k in 0..%s' % (name, t.name, pd))
            self.feat.add('pad_for')
            self.add(name, ['B', pd], t.scale, t.vb)
        elif k == 2:  # transpose, then read back
            name = self.fresh('tr')
            self.eqs.append('%s[j, b] = %s[b, j]' % (name, t.name))
            self.feat.add('transpose')
            self.add(name, [d, 'B'], t.scale, t.vb)
        else:  # subsampling a sequence by 2 (stride, for clause)
            s = self.pick(lambda t: len(t.axes) == 3 and t.axes[:2] == ['B', 'T'])
            if not s:
                return
            T2 = self.dim('T2', (self.dims['T'] + 1) // 2, '(T + 1)/2')
            name = self.fresh('sub')
            self.eqs.append('%s[b, u, j] = 0.5*%s[b, 2*u, j] + 0.5*%s[b, 2*u + 1, j] for u in 0..T2'
                            % (name, s.name, s.name))
            s.used = True
            self.feat.add('stride_subsample')
            self.add(name, ['B', T2, s.axes[2]], s.scale, s.vb)

    def seq_source(self):
        return self.pick(lambda t: len(t.axes) == 3 and t.axes[:2] == ['B', 'T'])

    def boundary(self, name, pos, H):
        """A boundary equation for name[b, pos, j]: a parameter, a pool row, an expression."""
        k = self.r(0, 3)
        if k == 0:
            return
        self.feat.add('rec_boundary')
        if k == 1:
            h0, _ = self.param([H], 'bias')
            rhs = '%s[j]' % h0
        else:
            v = self.pick(lambda t: t.axes == ['B', H])
            if not v:
                h0, _ = self.param([H], 'bias')
                rhs = '%s[j]' % h0
            else:
                v.used = True
                rhs = '%s[b, j]' % v.name if k == 2 else 'tanh(%s[b, j])' % v.name
        self.eqs.append('%s[b, %s, j] = %s' % (name, pos, rhs))

    def rec_step(self, S, H, reads):
        """tanh(Σ W h[...] + Σ U S[b, t, i] + c[j]) over the given recurrent reads."""
        parts = []
        for r in reads:
            w, _ = self.param([H, H], 'weight', self.dims[H])
            parts.append('%s[j, i1]*%s' % (w, r))
        u, _ = self.param([H, S.axes[2]], 'weight', self.dims[S.axes[2]])
        c, _ = self.param([H], 'bias')
        parts.append('%s[j, i2]*%s[b, t, i2] + %s[j]' % (u, S.name, c))
        return ' + '.join(parts)

    def blk_rec(self):
        S = self.seq_source()
        if not S:
            return self.blk_elementwise()
        S.used = True
        H = self.feature_dim()
        k = self.r(0, 6)
        h = self.fresh('h')
        if k == 0:   # forward
            self.feat.add('rec_forward')
            self.eqs.append('%s[b, t, j] = tanh(%s)' % (h, self.rec_step(S, H, ['%s[b, t-1, i1]' % h])))
            self.boundary(h, '-1', H)
        elif k == 1:  # backward, boundary at T
            self.feat.add('rec_backward')
            self.eqs.append('%s[b, t, j] = tanh(%s)' % (h, self.rec_step(S, H, ['%s[b, t+1, i1]' % h])))
            self.boundary(h, 'T', H)
        elif k == 2:  # two-step look-back, boundaries at -1 and -2
            self.feat.add('rec_two_step')
            self.eqs.append('%s[b, t, j] = tanh(%s + 0.5*%s[b, t-2, j])'
                            % (h, self.rec_step(S, H, ['%s[b, t-1, i1]' % h]), h))
            self.boundary(h, '-1', H)
            self.boundary(h, '-2', H)
        elif k == 3:  # an LSTM-ish pair; the gate with its time axis first
            self.feat.add('rec_lstm_pair')
            c, g = self.fresh('cell'), self.fresh('gate')
            self.eqs.append('%s[t, b, j] = sigmoid(%s)' % (g, self.rec_step(S, H, ['%s[b, t-1, i1]' % h])))
            self.eqs.append('%s[b, t, j] = %s[t, b, j]*%s[b, t-1, j] + (1 - %s[t, b, j])*tanh(%s)'
                            % (c, g, c, g, self.rec_step(S, H, ['%s[b, t-1, i1]' % h])))
            self.eqs.append('%s[b, t, j] = tanh(%s[b, t, j])*sigmoid(%s)'
                            % (h, c, self.rec_step(S, H, ['%s[b, t-1, i1]' % h])))
            self.boundary(h, '-1', H)
            self.boundary(c, '-1', H)
            self.add(c, ['B', 'T', H], 1.0)
        elif k == 4:  # layers: h[l] = tanh(W[l] h[l-1] + c[l]), h[-1] = a pool row
            v = self.pick(lambda t: t.axes == ['B', H])
            if not v:
                v = self.equation(['B', H], lambda c: self.expr(c, 1))
            L = self.dim('L', self.r(2, 3))
            self.feat.add('rec_layers')
            w, _ = self.param(['L', H, H], 'weight', self.dims[H])
            c, _ = self.param(['L', H], 'bias')
            self.eqs.append('%s[l, b, j] = tanh(%s[l, j, i1]*%s[l-1, b, i1] + %s[l, j])' % (h, w, h, c))
            self.eqs.append('%s[-1, b, j] = %s[b, j]' % (h, v.name))
            v.used = True
            last = self.fresh('last')
            self.eqs.append('%s[b, j] = %s[L-1, b, j]' % (last, h))
            self.add(last, ['B', H], 1.0)
            self.add(h, [L, 'B', H], 1.0)
            return
        elif k == 5:  # a table along two axes (t, then j), a diagonal read
            self.feat.add('rec_2d')
            a, _ = self.param([], 'scalar')
            self.eqs.append('%s[t, j] = tanh(%s*%s[t-1, j] + 0.3*%s[t, j-1] + 0.2*%s[t-1, j-1] + %s[0, t, j])'
                            % (h, a, h, h, h, S.name))
            self.add(h, ['T', S.axes[2]], 1.0, False)
            return
        else:  # greedy decoding: an argmax fed back as an indirect index
            self.feat.add('rec_greedy_argmax')
            V = self.dim('V', self.r(3, 6))
            tk = self.fresh('dec')
            w, _ = self.param([V, H], 'weight', self.dims[H])
            e, _ = self.param([V, H], 'bias')
            self.eqs.append('%s[b, t] = argmax(v: %s[v, j]*%s[b, t-1, j])' % (tk, w, h))
            self.eqs.append('%s[b, t, j] = tanh(%s[%s[b, t], j] + %s)'
                            % (h, e, tk, self.rec_step(S, H, ['%s[b, t-1, i1]' % h])))
        if self.p(0.3):  # an equation outside the group reading the boundary
            self.feat.add('rec_read_outside')
            z = self.fresh('rz')
            self.eqs.append('%s[b, t, j] = %s[b, t-1, j]*%s[b, t, j]' % (z, h, h))
            self.add(z, ['B', 'T', H], 1.0)
        self.add(h, ['B', 'T', H], 1.0)

    def blk_std(self):
        self.std = True
        k = self.ch(['dense', 'rnn', 'gru', 'ugrnn', 'lstm', 'conv', 'norm', 'dropout'])
        name = self.fresh('s')
        if k == 'dense':
            t = self.pick(lambda t: len(t.axes) >= 2)
            f = self.ch(['relu', 'tanh', 'sigmoid'])
            D = self.feature_dim()
            self.eqs.append('%s = %s(dense(%s, %s))' % (name, f, t.name, D))
            self.add(name, t.axes[:-1] + [D], 1.0 if f != 'relu' else 1.5 * t.scale, t.vb)
        elif k in ('rnn', 'gru', 'ugrnn', 'lstm'):
            S = self.seq_source()
            H = self.feature_dim()
            if k == 'lstm':
                c = self.fresh('sc')
                self.eqs.append('%s, %s = lstm(%s, %s)' % (name, c, S.name, H))
                self.add(c, ['B', 'T', H], 1.0)
            else:
                self.eqs.append('%s = %s(%s, %s)' % (name, k, S.name, H))
            S.used = True
            self.add(name, ['B', 'T', H], 1.0)
        elif k == 'conv':
            img = self.image()
            s, pad = self.ch([(1, 1), (1, 0), (2, 1)])
            X2 = self.dim('CX%d%d' % (s, pad), (self.dims['X'] + 2 * pad - 3) // s + 1,
                          '(X + %d - 3)/%d + 1' % (2 * pad, s))
            Y2 = self.dim('CY%d%d' % (s, pad), (self.dims['Y'] + 2 * pad - 3) // s + 1,
                          '(Y + %d - 3)/%d + 1' % (2 * pad, s))
            self.eqs.append('%s = tanh(conv2d(%s, 3, C, %d, %d))' % (name, img.name, s, pad))
            self.feat.add('std_conv2d')
            img.used = True
            out = self.add(name, ['B', X2, Y2, 'C'], 1.0)
            if self.dims[X2] >= 2 and self.dims[Y2] >= 2 and self.p(0.6):
                P = self.fresh('mp')
                X3 = self.dim('MX%s' % X2, self.dims[X2] // 2, '%s/2' % X2)
                Y3 = self.dim('MY%s' % Y2, self.dims[Y2] // 2, '%s/2' % Y2)
                self.eqs.append('%s = maxpool(%s, 2)' % (P, name))
                self.feat.add('std_maxpool')
                out.used = True
                self.add(P, ['B', X3, Y3, 'C'], 1.0)
            return
        elif k == 'norm':
            t = self.pick(lambda t: len(t.axes) >= 2 and t.axes[0] == 'B' and t.vb) \
                if self.p(0.5) else None
            f = 'batchnorm' if t else 'layernorm'
            t = t or self.pick(lambda t: len(t.axes) >= 2 and t.axes[-1] not in ('B',))
            self.eqs.append('%s = %s(%s)' % (name, f, t.name))
            self.add(name, t.axes, 2.0, t.vb)
            k = f
        else:
            t = self.pick(lambda t: len(t.axes) >= 2)
            self.eqs.append('%s = dropout(%s, 0.3)' % (name, t.name))
            self.add(name, t.axes, t.scale * 1.5, t.vb)
        t_used = [u for u in self.pool if u.name in self.eqs[-1].split('=', 1)[1]]
        for u in t_used:
            u.used = True
        self.feat.add('std_' + k)

    def image(self):
        im = self.pick(lambda t: t.axes == ['B', 'X', 'Y', 'C'])
        if im:
            return im
        self.dim('X', self.r(3, 6))
        self.dim('Y', self.r(3, 6))
        self.dim('C', self.r(1, 3))
        return self.input(['B', 'X', 'Y', 'C'])

    def blk_conv_inline(self):
        """A 3x3 convolution written out with padding 1, and a max pooling binder with its own
        ranges (stride 2 or overlapping with padding)."""
        img = self.image()
        img.used = True
        K, _ = self.param(['C', '3', '3', 'C'], 'weight', 9 * self.dims['C'])
        name = self.fresh('cv')
        self.eqs.append('%s[b, x, y, k] = tanh(%s[k, dx, dy, i1]*%s[b, x + dx - 1, y + dy - 1, i1])'
                        % (name, K, img.name))
        self.feat.add('conv2d_inline')
        self.add(name, ['B', 'X', 'Y', 'C'], 1.0)
        if self.p(0.5):
            P = self.fresh('pool')
            op = self.ch(['max', 'min'])
            self.eqs.append('%s[b, x, y, k] = %s(dx in 0..3, dy in 0..3: %s[b, x + dx - 1, y + dy - 1, k])'
                            ' for x in 0..X, y in 0..Y' % (P, op, name))
            self.feat.add('pool_binder')
            self.add(P, ['B', 'X', 'Y', 'C'], 1.0)

    def blk_def(self):
        k = self.r(0, 2)
        t = self.pick(lambda t: len(t.axes) >= 2)
        name = self.fresh('df')
        f = self.fresh('f')
        if k == 0:  # elementwise def applied to indexed scalars
            self.defs.append('def %s(a, c) = tanh(a)*sigmoid(c) + 0.1*a' % f)
            u = self.pick(lambda u: u.axes == t.axes)
            self.feat.add('def_elementwise')
            self.equation(t.axes, lambda ctx: E('%s(%s, %s)' % (f, self.read(t, ctx).text,
                                                                 self.read(u, ctx).text), 1.1))
            return
        if k == 1:  # a layer def with its own parameters over `...`
            self.defs.append('def %s(x[..., I], dim O) {\n  param W[O, I] = lecun()\n'
                             '  param c[O] = normal(0.1)\n'
                             '  return tanh(W[o, i]*x[..., i] + c[o]) -> [..., o]\n}' % f)
            D = self.feature_dim()
            self.eqs.append('%s = %s(%s, %s)' % (name, f, t.name, D))
            self.feat.add('def_layer')
            self.add(name, t.axes[:-1] + [D], 1.0, t.vb)
        else:  # a def reducing over its leading axes as a whole, count(...)
            self.defs.append('def %s(x[..., C]) {\n  param s[C] = ones()\n'
                             '  mu[c] = mean(...: x[..., c])\n'
                             '  sq[c] = sum(...: (x[..., c] - mu[c])^2) / (count(...) - 1)\n'
                             '  return s[c]*(x[..., c] - mu[c])/sqrt(sq[c] + 1) -> [..., c]\n}' % f)
            self.eqs.append('%s = %s(%s)' % (name, f, t.name))
            self.feat.add('def_ellipsis_reduce')
            self.add(name, t.axes, 2 * t.scale, t.vb)
        t.used = True

    def blk_noise(self):
        """A VAE-like reparameterization with a noise tensor; kl_normal joins the loss."""
        D = self.feature_dim()
        mu = self.equation(['B', D], lambda c: self.expr(c, 1))
        lv = self.equation(['B', D], lambda c: E('tanh(%s)' % self.expr(c, 1).text, 1))
        ep = self.fresh('eps')
        self.decls.append('noise %s[B, %s] = %s' % (ep, D, self.ch(['normal(1)', 'uniform(-1, 1)'])))
        name = self.fresh('zs')
        self.eqs.append('%s[b, j] = %s[b, j] + exp(0.5*%s[b, j])*%s[b, j]' % (name, mu.name, lv.name, ep))
        self.feat.add('noise')
        mu.used = lv.used = True
        self.add(name, ['B', D], mu.scale + 2)
        self.kl.append((mu.name, lv.name))

    def blk_scalar_tensor(self):
        """A scalar tensor (whole name inside an indexed equation)."""
        t = self.pick(lambda t: True)
        sc = self.fresh('sc')
        vs = lhs_vars(t.axes)
        self.eqs.append('%s = mean(%s: %s^2)' % (sc, ', '.join(v for v, _ in vs),
                                                 ref(t.name, [v for v, _ in vs])))
        t.used = True
        name = self.fresh('ss')
        self.eqs.append('%s = tanh(%s)*%s' % (ref(name, [v for v, _ in vs]),
                                              ref(t.name, [v for v, _ in vs]), sc))
        self.feat.add('scalar_tensor')
        self.add(name, t.axes, t.scale ** 3, t.vb)

    # -------------------------------------------------------------- loss ---
    def loss_term(self, t):
        vs = [v for v, _ in lhs_vars(t.axes)]
        all_ = ', '.join(vs)
        r = ref(t.name, vs)
        k = self.r(0, 6)
        if k == 0:
            return 'mean(%s: %s^2)' % (all_, r)
        if k == 1:
            tg = self.input(t.axes)
            tg.used = True
            return 'sum(%s: %s*%s)' % (all_, r, ref(tg.name, vs))
        if k == 2:
            return '0.1*sum(%s: abs(%s))' % (all_, r)
        if k == 3 and t.axes[0] != t.axes[-1]:
            self.std = True
            if len(t.axes) == 2 and t.axes[0] == 'B':
                self.feat.add('std_cross_entropy')
                lab = self.int_input(['B'], t.axes[1])
                return 'cross_entropy(%s, %s)' % (t.name, lab)
            tg = self.input(t.axes)
            tg.used = True
            self.feat.add('std_mse')
            return 'mse(%s, %s)' % (t.name, tg.name)
        if k == 4:
            self.std = True
            f = self.ch(['l1', 'l2'])
            self.feat.add('std_' + f)
            return '0.1*%s(%s)' % (f, t.name)
        if k == 5 and len(t.axes) == 2 and t.axes[0] == 'B' and t.axes[1] != 'B':
            self.feat.add('label_pick')
            lab = self.int_input(['B'], t.axes[1])
            return 'mean(b: logsumexp(j: %s[b, j]) - %s[b, %s[b]])' % (t.name, t.name, lab)
        if k == 6 and len(t.axes) == 2:
            self.std = True
            self.feat.add('std_bce_logits')
            return 'mean(%s: %s(%s, 0.5))' % (all_, self.ch(['bce_logits']), r)
        return 'mean(%s: %s*tanh(%s))' % (all_, r, r)

    def build(self):
        self.kl = []
        self.dim('B', self.r(2, 4))
        self.dim('T', self.r(2, 6))
        for d in ('D1', 'D2', 'D3'):
            self.dim(d, self.r(2, 6))
        self.input(['B', 'T', self.feature_dim()])
        self.input(['B', self.feature_dim()])
        blocks = [('elementwise', 4), ('whole', 1), ('dense', 2), ('softmax', 1.5), ('embed', 1.5),
                  ('layout', 1.5), ('rec', 3), ('std', 2.5), ('conv_inline', 0.7), ('def', 1.2),
                  ('noise', 0.5), ('scalar_tensor', 0.5)]
        names, weights = zip(*blocks)
        for _ in range(self.r(4, 8)):
            getattr(self, 'blk_' + self.rng.choices(names, weights)[0])()
        # The loss depends on everything: every tensor nothing else read gets a term.
        terms = [self.loss_term(t) for t in self.pool if not t.used]
        terms += ['kl_normal(%s, %s)' % kl for kl in self.kl]
        if self.kl:
            self.std = True
            self.feat.add('std_kl_normal')
        if self.p(0.5):  # split the loss into named scalar parts
            parts = []
            for term in terms:
                n = self.fresh('lt')
                self.eqs.append('%s = %s' % (n, term))
                parts.append(n)
            terms = parts
        coef = [self.ch(['', '0.5*', '0.25*']) for _ in terms]
        self.eqs.append('loss = ' + ' + '.join(c + t for c, t in zip(coef, terms)))
        if self.p(0.3):  # equations in any order: a name may be used before its line
            self.rng.shuffle(self.eqs)
            self.feat.add('shuffled_order')
        made = [t for t in self.pool if not t.name.startswith('in')]
        outs = [t.name for t in self.rng.sample(made, min(len(made), self.r(1, 3)))]
        head = ['# Generated by tests/fuzz/gen_models.py (%s).' % self.name]
        head += ['# fuzz-int: %s %d' % kv for kv in sorted(self.int_bounds.items())]
        head += ['# fuzz-features: ' + ' '.join(sorted(self.feat))]
        lines = head + ([''] + ['import "std"'] if self.std else [])
        lines += [''] + self.defs + ([''] if self.defs else [])
        lines += ['model %s {' % self.name] + ['  ' + l for l in self.dim_lines + self.decls + self.eqs]
        lines += ['  output ' + ', '.join(outs), '  minimize loss', '}']
        return '\n'.join(lines) + '\n'


def lhs_vars_names(axes):
    return [v for v, _ in lhs_vars(axes)]


def generate(seed, index):
    return Gen(seed, index).build()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--count', type=int, default=10)
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for i in range(a.count):
        with open(os.path.join(a.out, 'gen_%d_%d.grad' % (a.seed, i)), 'w') as f:
            f.write(generate(a.seed, i))


if __name__ == '__main__':
    main()
