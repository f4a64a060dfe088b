from .mixed_precision import (MixedPrecisionOptimWrapper, amp_dtype,
                              use_mixed_precision)
from .multi_optim_wrapper_constructor import MultiOptimWrapperConstructor

__all__ = ['MultiOptimWrapperConstructor', 'MixedPrecisionOptimWrapper', 'amp_dtype',
           'use_mixed_precision']
