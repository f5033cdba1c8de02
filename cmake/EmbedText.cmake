# Turns a text file into a C++ raw string literal: -DIN=file -DOUT=file.inc
file(READ ${IN} content)
file(WRITE ${OUT} "R\"gradcstd(${content})gradcstd\"\n")
