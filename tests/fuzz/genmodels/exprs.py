"""Expression generation: the unary function table, leaves (reads, contractions, dots,
reductions, shifts, windows, softmax, indirect reads, biases, scalars), taming, conditions,
operator trees, and whole indexed equations with their `for` clauses."""
import math

from .pool import Ctx, E, lhs_vars, ref

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


class ExprMixin:
    """Builds expressions and equations over the pool (mixed into model.Gen)."""
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
