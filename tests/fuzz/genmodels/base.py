"""The generator's state (dims, declarations, equations, the tensor pool, features) and its
helpers: random draws, fresh names, dims, pool picks, inputs and parameters."""
import math
import random

from .pool import Ten


class GenBase:
    """State and helpers shared by the generator's mixins (see model.Gen)."""
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
