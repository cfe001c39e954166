# a packet load of bytes 96..99: strict reaches 64 bytes into the packet
# rule: packet-offset
# pc: 5
# type: xdp
# targets: strict
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 100
jgt %r4, %r3, out
ldxw %r0, [%r2+96]
out:
mov %r0, 2
exit
