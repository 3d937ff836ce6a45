/* Links the default signal-layer weights into the library, so no configuration is needed to
 * find them. SCMC_SIGNAL_WEIGHTS is the weight file's path, set by meson. */
    .section .rodata
    .balign 16
    .globl scmc_signal_default_weights
    .hidden scmc_signal_default_weights
    .globl scmc_signal_default_weights_end
    .hidden scmc_signal_default_weights_end
scmc_signal_default_weights:
    .incbin SCMC_SIGNAL_WEIGHTS
scmc_signal_default_weights_end:
    .byte 0
    .section .note.GNU-stack,"",%progbits
