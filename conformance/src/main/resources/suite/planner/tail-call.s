# bpf_tail_call through a pinned prog_array: strict has no tail calls
# rule: tail-call
# pc: 3
# type: xdp
# targets: strict, nfp, p4, opencl, csd, csd-aarch64, csd-riscv64
# map: jt prog_array 4 4 4
lddw %r2, map_idx 0
mov %r3, 0
call 12
mov %r0, 2
exit
