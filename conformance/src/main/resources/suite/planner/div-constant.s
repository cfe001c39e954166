# a division by a register that is not a proven constant: strict divides only by constants
# rule: div-constant
# pc: 5
# type: xdp
# targets: strict, nfp
call 5
mov %r6, %r0
and %r6, 255
call 5
and %r0, 65535
div %r0, %r6
mov %r0, 2
exit
