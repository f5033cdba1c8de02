"""Layer-level blocks: std-library layer calls (dense, rnn/gru/ugrnn/lstm, conv2d with
maxpool, batch/layer norm, dropout), convolutions and pooling written out, and user-defined
functions (def)."""
import math

from .pool import E


class LayerMixin:
    """Std-library calls, convolutions and defs (mixed into model.Gen)."""
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
