/* pvkvm/pvkvm.h: the whole guest SDK in one include — every header under include/pvkvm/. */
#ifndef PVKVM_PVKVM_H
#define PVKVM_PVKVM_H
#include <stddef.h>
#include <stdint.h>
/* The machine and the hypervisor interface. */
#include <pvkvm/xen.h>
#include <pvkvm/cpu.h>
#include <pvkvm/kcall.h>
#include <pvkvm/arch.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/start.h>
#include <pvkvm/traps.h>
#include <pvkvm/lapic.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/evtchn_fifo.h>
#include <pvkvm/time.h>
#include <pvkvm/smp.h>
#include <pvkvm/grant.h>
/* Building blocks. */
#include <pvkvm/string.h>
#include <pvkvm/console.h>
#include <pvkvm/test.h>
#include <pvkvm/deadline.h>
#include <pvkvm/lock.h>
#include <pvkvm/port_wait.h>
#include <pvkvm/page_arena.h>
/* Xen PV devices. */
#include <pvkvm/xenstore.h>
#include <pvkvm/xenbus.h>
#include <pvkvm/pvconsole.h>
#include <pvkvm/block.h>
#include <pvkvm/blkfront.h>
#include <pvkvm/net.h>
#include <pvkvm/netfront.h>
#include <pvkvm/ne2000.h>
#include <pvkvm/netstack.h>
/* The emulated PC devices. */
#include <pvkvm/isa.h>
#include <pvkvm/uart.h>
#include <pvkvm/ata.h>
#endif
