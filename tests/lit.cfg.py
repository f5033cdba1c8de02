# lit configuration for gradc's golden tests (tests/golden) and bad-input
# corpus (tests/bad): each file carries its own RUN and CHECK lines.
import os

import lit.formats

config.name = "gradc"
config.test_format = lit.formats.ShTest(True)
config.suffixes = [".grad", ".ir"]
config.test_source_root = os.path.dirname(__file__)
config.excludes = ["Inputs", "unit", "torch"]

gradc = lit_config.params["gradc"]
llvm_bin = lit_config.params["llvm_bin"]
config.substitutions.append(("%gradc", gradc))
config.substitutions.append(("%models", lit_config.params.get("models", "")))
config.environment["PATH"] = llvm_bin + os.pathsep + os.environ.get("PATH", "")
