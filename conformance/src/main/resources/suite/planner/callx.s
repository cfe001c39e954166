# callx: strict lacks it; Linux 6.x has no callx (linux answers for the running kernel)
# rule: callx
# pc: 2
# type: xdp
# targets: strict, linux?, p4, opencl, csd, csd-aarch64, csd-riscv64
lddw %r1, code fn
callx %r1
mov %r0, 2
exit
fn:
mov %r0, 0
exit
