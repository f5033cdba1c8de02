"""Recurrence generation: boundary equations, the step expression, and the recurrence block
(forward, backward, two-step, LSTM-ish, layers, 2-D tables, greedy decoding, attention,
stacked layers over time, embeddings in the step)."""
from .pool import Ctx


class RecurrenceMixin:
    """Recurrences over time or layers (mixed into model.Gen)."""
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
