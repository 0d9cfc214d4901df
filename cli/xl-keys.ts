// xl-keys.ts: the keys of xl.cfg(5) that pvkvm reads, and those xl accepts that do not apply to a
// PVH guest on pvkvm (with why) — a real xl config then loads with one warning per such key
// instead of failing.

/** Keys pvkvm interprets (cli/config.ts). The last two are pvkvm's own, not xl's. */
export const KNOWN_KEYS = [
  'name', 'type', 'builder', 'kernel', 'ramdisk', 'cmdline', 'extra', 'root', 'memory', 'maxmem', 'vcpus', 'maxvcpus',
  'cpus', 'cpus_soft', 'uuid', 'disk', 'vif', 'on_poweroff', 'on_reboot', 'on_crash', 'on_watchdog',
  // pvkvm's own, for the full-virtualization comparator: disks on the emulated IDE channel and
  // the console device (not xl keys).
  'emulated_disk', 'console',
] as const;
export type Key = (typeof KNOWN_KEYS)[number];

const SCHEDULER = 'pvkvm has no cpupools or credit scheduler: vCPUs are host threads under Linux\'s scheduler';
const HVM = 'it is for HVM guests (device model, firmware, emulated devices)';
const NO_DEVICE = 'pvkvm has no backend for this device type';

/** xl.cfg(5) keys that pvkvm accepts and ignores, with the reason the warning gives. */
export const IGNORED_KEYS: Readonly<Record<string, string>> = {
  // Scheduling, pools, NUMA.
  pool: SCHEDULER, cpu_weight: SCHEDULER, cap: SCHEDULER, vnuma: 'guests see one NUMA node',
  // Security and limits fixed by pvkvm.
  seclabel: 'pvkvm has no XSM/FLASK', init_seclabel: 'pvkvm has no XSM/FLASK', device_model_stubdomain_seclabel: 'pvkvm has no XSM/FLASK',
  max_grant_frames: 'the grant table size is fixed', max_maptrack_frames: 'the maptrack size is fixed',
  max_grant_version: 'grant tables are version 1', max_event_channels: 'the event channel limit is fixed',
  // Migration, features that need Xen itself.
  nomigrate: 'pvkvm does not migrate guests', driver_domain: 'backends run only in dom0',
  xend_suspend_evtchn_compat: 'pvkvm does not migrate guests', vmtrace_buf_kb: 'no processor tracing',
  vpmu: 'no virtual PMU', tsc_mode: 'the TSC is the host\'s (KVM)', localtime: 'the wallclock is the host\'s',
  rtc_timeoffset: 'the wallclock is the host\'s', e820_host: 'the memory map is pvkvm\'s own',
  altp2m: 'no alternate p2m', mca_caps: 'no machine-check injection', msr_relaxed: 'MSRs are KVM\'s',
  cpuid: 'CPUID is pvkvm\'s fixed set (docs/xen-abi.md)', claim_mode: 'memory is not claimed in advance',
  // Boot paths pvkvm does not have.
  bootloader: 'pvkvm boots the kernel named by \'kernel\' directly', bootloader_args: 'pvkvm has no bootloader',
  pvshim: 'PVH guests need no shim', pvshim_path: 'PVH guests need no shim', pvshim_cmdline: 'PVH guests need no shim',
  pvshim_extra: 'PVH guests need no shim', device_tree: 'x86 guests take no device tree', firmware: HVM,
  // PV devices without a backend here.
  vfb: NO_DEVICE, vkb: NO_DEVICE, vtpm: NO_DEVICE, channel: NO_DEVICE, usbctrl: NO_DEVICE, usbdev: NO_DEVICE,
  vdispl: NO_DEVICE, vsnd: NO_DEVICE, p9: NO_DEVICE, pvcalls: NO_DEVICE, tee: NO_DEVICE, virtio: NO_DEVICE,
  // Passthrough.
  pci: 'no PCI passthrough', pci_permissive: 'no PCI passthrough', pci_msitranslate: 'no PCI passthrough',
  pci_seize: 'no PCI passthrough', pci_power_mgmt: 'no PCI passthrough', rdm: 'no PCI passthrough',
  rdm_mem_boundary: 'no PCI passthrough', gfx_passthru: 'no PCI passthrough', ioports: 'no I/O port passthrough',
  iomem: 'no I/O memory passthrough', irqs: 'no interrupt passthrough', dtdev: 'no device passthrough',
  passthrough: 'no device passthrough', llc_colors: 'no cache colouring',
  // HVM-only keys (xl itself ignores these for PVH guests).
  serial: `${HVM}; pvkvm's emulated 16550 is console = "uart"`, acpi: HVM, acpi_s3: HVM, acpi_s4: HVM, acpi_laptop_slate: HVM,
  apic: HVM, pae: HVM, hap: HVM, nestedhvm: HVM, viridian: HVM, timer_mode: HVM, hpet: HVM, vpt_align: HVM,
  nx: HVM, vga: HVM, videoram: HVM, stdvga: HVM, vnc: HVM, vnclisten: HVM, vncdisplay: HVM, vncunused: HVM,
  vncpasswd: HVM, keymap: HVM, sdl: HVM, opengl: HVM, spice: HVM, spicehost: HVM, spiceport: HVM,
  spicetls_port: HVM, spicedisable_ticketing: HVM, spicepasswd: HVM, spiceagent_mouse: HVM, spicevdagent: HVM,
  spice_clipboard_sharing: HVM, spiceusbredirection: HVM, spice_image_compression: HVM, spice_streaming_video: HVM,
  boot: HVM, usb: HVM, usbdevice: HVM, usbversion: HVM, soundhw: HVM, xen_platform_pci: HVM, acpi_firmware: HVM,
  smbios_firmware: HVM, ms_vm_genid: HVM, bios: HVM, bios_path_override: HVM, shadow_memory: HVM, mmio_hole: HVM,
  device_model_version: HVM, device_model_override: HVM, device_model_stubdomain_override: HVM,
  device_model_args: HVM, device_model_args_pv: HVM, device_model_args_hvm: HVM, device_model_user: HVM,
  dm_restrict: HVM, stubdomain_memory: HVM, stubdomain_kernel: HVM, stubdomain_ramdisk: HVM, vif_model: HVM,
  // ARM-only.
  gic_version: 'it is for ARM guests', vuart: 'it is for ARM guests', dt_compatible: 'it is for ARM guests',
  sve: 'it is for ARM guests', trap_unmapped_accesses: 'it is for ARM guests',
  // on_soft_reset needs kexec-style soft reset, which pvkvm's toolstack does not do.
  on_soft_reset: 'soft reset ends the domain under pvkvm',
};
