"""Model blocks written as equations: elementwise and whole-tensor equations, dense layers,
softmax/entropy/attention, embeddings, layout changes (concat, pad, transpose, stride),
a noise reparameterization, a state with an update rule, and a scalar tensor."""
import math

from .pool import E, is_bc, names, ref


class BlockMixin:
    """Blocks that add equations to the model (mixed into model.Gen)."""
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
