/* pvkvm/pvkvm.h: the whole guest SDK in one include. */
#ifndef PVKVM_PVKVM_H
#define PVKVM_PVKVM_H
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/xen.h>
#include <pvkvm/arch.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/console.h>
#include <pvkvm/string.h>
#include <pvkvm/start.h>
#include <pvkvm/traps.h>
#include <pvkvm/test.h>
#include <pvkvm/lapic.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/time.h>
#include <pvkvm/smp.h>
#include <pvkvm/grant.h>
#endif
