# a bpf-to-bpf call: strict has none
# rule: bpf-call
# pc: 0
# type: xdp
# targets: strict
call local fn
mov %r0, 2
exit
fn:
mov %r0, 0
exit
