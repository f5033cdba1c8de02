"""The random model generator behind tests/fuzz/gen_models.py, by concept:

    pool.py        pool tensors, expressions, index-variable scopes and subscript helpers
    base.py        the generator's state, random draws, names, declarations, parameters
    exprs.py       expressions: leaves (reads, contractions, reductions, ...), operators,
                   conditions, and whole indexed equations
    blocks.py      model blocks written as equations (elementwise, dense, softmax, embedding,
                   layout, noise, state, scalar)
    recurrence.py  recurrences: steps, boundaries and the recurrence block
    layers.py      std-library layer calls, convolutions and user-defined functions (def)
    model.py       the loss and the assembly of a whole model (Gen, generate)

Gen combines the mixins of these modules; the random draws happen in the order the single
generator always made them, so a model stays deterministic in (seed, index).
"""
from .model import Gen, generate

__all__ = ['Gen', 'generate']
