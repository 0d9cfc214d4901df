/* pvkvm/xen.h: every Xen ABI constant and struct (the xen-abi headers are generated from abi/). */
#ifndef PVKVM_XEN_H
#define PVKVM_XEN_H
#include <xen-abi/errno.h>
#include <xen-abi/hypercall.h>
#include <xen-abi/cpuid.h>
#include <xen-abi/start-info.h>
#include <xen-abi/shared-info.h>
#include <xen-abi/sched.h>
#include <xen-abi/memory.h>
#include <xen-abi/hvm.h>
#include <xen-abi/version.h>
#include <xen-abi/console-io.h>
#endif
