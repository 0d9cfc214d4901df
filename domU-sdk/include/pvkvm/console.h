/*
 * pvkvm/console.h: text output.
 *
 * Output is line-buffered and written to the PV console ring (when the domain has a console
 * backend) or with console_io(CONSOLEIO_write). When there is no Xen (e.g. under QEMU), or the
 * hypervisor refuses console_io, it goes to the debug port 0xE9 instead (QEMU: -debugcon stdio).
 * The 16550 UART at 0x3F8 (<pvkvm/uart.h>): cmdline console=uart sends output there only (when a
 * UART answers); without Xen and without a console= option it gets a copy ("\n" as "\r\n").
 * Any other console=VALUE keeps the UART out of it.
 *
 * printf supports %d %i %u %x %X %o %p %s %c %%, flags - 0 + space #, width and precision
 * (also *), and the hh h l ll z j t length modifiers.
 */
#ifndef PVKVM_CONSOLE_H
#define PVKVM_CONSOLE_H
#include <stdarg.h>
#include <stddef.h>

int putchar(int c);
int puts(const char *s); /* writes s and a newline */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* Write n bytes through the line buffer. */
void console_write(const char *s, size_t n);
/* Push out a partial line now. */
void console_flush(void);
/* Write straight to the debug port 0xE9, bypassing the buffer and the hypervisor console. */
void debugcon_write(const char *s, size_t n);

/* The formatter behind printf: emit(ctx, c) is called per character; returns the count. */
int pvkvm_vformat(void (*emit)(void *ctx, char c), void *ctx, const char *fmt, va_list ap);

#endif
