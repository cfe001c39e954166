# a 64-bit dividend: strict divides operands up to 0xffffffff
# rule: div-range
# pc: 1
# type: xdp
# targets: strict, nfp
call 5
div %r0, 3
mov %r0, 2
exit
