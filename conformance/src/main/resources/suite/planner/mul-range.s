# a multiplication of two 32-bit unknowns: strict multiplies operands up to 0xffff
# rule: mul-range
# pc: 1
# type: xdp
# targets: strict
call 7
mul %r0, %r0
mov %r0, 2
exit
