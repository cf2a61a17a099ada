"""torch.autograd.profiler's `profile`: torch.profiler's, under the older signature scripts still call
(`with torch.autograd.profiler.profile() as prof: ...; print(prof.key_averages().table())`): `enabled` first, no
activities (the CPU's), and enabled=False records nothing."""

from __future__ import annotations

from gradscope.profiler import profile as _profile


class profile(_profile):  # noqa: N801 - torch's name
    """The block's ops, backward nodes and regions, as torch.profiler.profile records them."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device=None, record_shapes: bool = False,
                 with_flops: bool = False, profile_memory: bool = False, with_stack: bool = False,
                 with_modules: bool = False, use_kineto: bool = False, use_cpu: bool = True, experimental_config=None,
                 acc_events: bool = False, custom_trace_id_callback=None, post_processing_timeout_s=None,
                 activity_filters=None) -> None:
        super().__init__(record_shapes=record_shapes, profile_memory=profile_memory, with_stack=with_stack,
                         with_flops=with_flops, with_modules=with_modules, acc_events=acc_events)
        self.enabled = enabled

    def __enter__(self):
        if not self.enabled:  # PyTorch's gives nothing to bind then
            return None
        return super().__enter__()

    def start(self) -> None:
        if self.enabled:
            super().start()

    def stop(self) -> None:
        if self.enabled:
            super().stop()
