# a bpf-to-bpf call: strict has none
# rule: bpf-call
# pc: 0
# type: xdp
# targets: strict, p4
call local fn
mov %r0, 2
exit
fn:
mov %r0, 0
exit
