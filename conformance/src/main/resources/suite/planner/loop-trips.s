# a loop of 20 trips: strict-unrolled unrolls up to 8 (strict refuses it as a loop)
# rule: loop-trips
# pc: 1
# type: xdp
# targets: strict-unrolled
mov %r2, 0
l:
add %r2, 1
jlt %r2, 20, l
mov %r0, 2
exit
