"""Typed building blocks of a generated model: pool tensors (Ten), expressions with their
rough magnitude (E), index-variable scopes of one equation (Ctx), and helpers that name
left-side variables and write subscripted references."""

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
