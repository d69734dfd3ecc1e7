// SPDX-License-Identifier: GPL-2.0
/*
 * Detector self-test module: provokes, on request, each class of report the
 * lab's debug kernel can print, so that lab/detector-selftest.sh can show
 * each one failing a run. Lab only, never part of the normal pass.
 *
 * Write a request to /sys/kernel/debug/p2pbuf_lab_detect/provoke:
 *	lockdep_unlock	unlock a mutex that is not held (bad unlock balance)
 *	lockdep_freed	free memory that holds a held mutex (held lock freed)
 *	lockdep_exit_held a thread exits holding a mutex (still has locks held)
 *	lockdep_safe_unsafe a lock taken in hard interrupt context, then held
 *			while taking one taken with interrupts on (irq-safe ->
 *			irq-unsafe lock order)
 *	lockdep_irq_inversion the same two locks in the same order, the first
 *			taken in hard interrupt context only afterwards (irq
 *			lock inversion)
 *	lockdep_nest	spin_lock_nest_lock() with a parent that is not held
 *			(nested lock was not taken)
 *	kasan		read one byte past a kmalloc()ed buffer
 *	ubsan		index an array one past its end
 *	leak		allocate 64 bytes and 16 KiB in a thread that forgets them
 *	dma <bdf>	map 64 bytes for PCI device <bdf>, unmap 32
 *	warn		WARN()
 *	atomic_sleep	might_sleep() with preemption off
 *	oops		NULL write in a thread of its own
 *	hung		a thread holds a mutex until "release", waiting in I/O
 *			wait, and another waits on the mutex
 *	release		let the "hung" threads go and wait for them
 *	stall <ms>	spin <ms> with preemption off (RCU stall, soft lockup)
 *			while a thread waits for a normal RCU grace period
 *	exp_stall <ms>	the same, the thread waiting for an expedited one
 *			(apart: the expedited stall's report, printed while
 *			the spinner runs, touches the soft lockup watchdog)
 *	tasks_stall <ms> spin <ms> preemptible but never sleeping while a
 *			thread waits for an RCU tasks grace period
 *	stuck		the writer sleeps uninterruptibly for good, outside
 *			the request lock: no signal ends it, the lab guest
 *			must end the boot (lab/guest/lib.sh); a hung-task
 *			report follows after hung_task_timeout_secs
 *	panic		panic(): the boot ends there
 * Lockdep reports once a boot, so each lockdep request needs a boot of its
 * own; the two irq requests refuse (-EBUSY) once either has run.
 * The log lines of this module name a request, never a report, so that
 * the detector cannot mistake them for one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rcupdate.h>
#include <linux/rcupdate_wait.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

static struct dentry *p2pbuf_lab_dir;

/* One request at a time: it protects the "hung" state below. */
static DEFINE_MUTEX(p2pbuf_lab_provoke_lock);

/* "hung": the holder keeps the mutex until "release"; the waiter blocks on it. */
static DEFINE_MUTEX(p2pbuf_lab_hung_lock);
static DECLARE_COMPLETION(p2pbuf_lab_release);
static struct completion p2pbuf_lab_hung_done[2];
static bool p2pbuf_lab_hung_started;

/* "stuck": nothing completes it; the boot ends with the writer asleep. */
static DECLARE_COMPLETION(p2pbuf_lab_never);

/* "lockdep_unlock": a mutex nobody holds, unlocked once. */
static DEFINE_MUTEX(p2pbuf_lab_idle_lock);
/* Taken by a thread that exits with it: nothing may take it again. */
static DEFINE_MUTEX(p2pbuf_lab_exit_lock);
static DECLARE_COMPLETION(p2pbuf_lab_exit_done);

/*
 * The irq lock orders: p2pbuf_lab_irq_lock is taken in hard interrupt
 * context by p2pbuf_lab_irq_timer and, with interrupts off, around
 * p2pbuf_lab_task_lock; p2pbuf_lab_task_lock is also taken with
 * interrupts on, which makes it irq-unsafe. Neither request can deadlock:
 * the interrupt takes only p2pbuf_lab_irq_lock, never the task lock, and
 * the task takes the irq lock only with interrupts off. Raw spinlocks: a
 * spinlock_t in hard interrupt context, or under a raw one, is a lockdep
 * report of its own (invalid wait context, with PROVE_RAW_LOCK_NESTING),
 * which would come first.
 */
static DEFINE_RAW_SPINLOCK(p2pbuf_lab_irq_lock);
static DEFINE_RAW_SPINLOCK(p2pbuf_lab_task_lock);
static struct hrtimer p2pbuf_lab_irq_timer;
static DECLARE_COMPLETION(p2pbuf_lab_irq_done);
static bool p2pbuf_lab_irq_used;	/* under p2pbuf_lab_provoke_lock */

/* "lockdep_nest": the child is taken naming a parent nobody holds. */
static DEFINE_MUTEX(p2pbuf_lab_nest_parent);
static DEFINE_SPINLOCK(p2pbuf_lab_nest_child);

struct p2pbuf_lab_locked {
	struct mutex lock;	/* held while the structure is freed */
};

struct p2pbuf_lab_array {
	int a[4];
	int after;	/* what a[4] reads: in bounds for KASAN, not for UBSAN */
};

static int p2pbuf_lab_lockdep_freed(void)
{
	struct p2pbuf_lab_locked *l = kzalloc(sizeof(*l), GFP_KERNEL);

	if (!l)
		return -ENOMEM;
	mutex_init(&l->lock);
	mutex_lock(&l->lock);
	/* Held, then freed: lockdep reports it and switches itself off. */
	kfree(l);
	return 0;
}

static int p2pbuf_lab_kasan(void)
{
	size_t size = 13;
	char *buf = kmalloc(size, GFP_KERNEL);

	if (!buf)
		return -ENOMEM;
	OPTIMIZER_HIDE_VAR(size);
	/* In kmalloc-16's slot, past the 13 bytes asked for. */
	(void)READ_ONCE(buf[size]);
	kfree(buf);
	return 0;
}

static int p2pbuf_lab_ubsan(void)
{
	struct p2pbuf_lab_array arr = { };
	int i = ARRAY_SIZE(arr.a);

	OPTIMIZER_HIDE_VAR(i);
	/*
	 * A plain store: the bounds check of "&a[i]", which READ_ONCE()
	 * would take, allows one past the end.
	 */
	arr.a[i] = 1;
	barrier_data(&arr);
	return 0;
}

/*
 * The only reference to each object dies with the leaking thread's stack,
 * scrubbed before the thread exits (p2pbuf_lab_scrub_stack()).
 * The small one comes from a slab's per-CPU sheaf, whose array keeps a stale
 * copy of the pointer until the sheaf is refilled: kmemleak sees that copy
 * and reports the object only later. The large one comes from the page
 * allocator (kmalloc_large()) and is reported by the next two scans.
 */
static noinline void p2pbuf_lab_leak_small(void)
{
	void *p = kmalloc(64, GFP_KERNEL);

	OPTIMIZER_HIDE_VAR(p);
	if (p)
		memset(p, 0x5a, 64);
}

static noinline void p2pbuf_lab_leak_large(void)
{
	void *p = kmalloc(4 * PAGE_SIZE, GFP_KERNEL);

	OPTIMIZER_HIDE_VAR(p);
	if (p)
		memset(p, 0x5a, 64);
}

/*
 * Zero, best effort, @depth times 512 bytes of the dead stack below the
 * caller (KASAN's redzones between the arrays stay): the frames of kmalloc()
 * and its callees there still hold the leaked pointers, and the stack's
 * pages, freed with the thread and reused unzeroed as memory that kmemleak
 * scans, would hide the objects; the detector self-test once missed both
 * for 40 s.
 */
static noinline void p2pbuf_lab_scrub_stack(unsigned int depth)
{
	u8 buf[512];

	memzero_explicit(buf, sizeof(buf));
	if (depth > 1)
		p2pbuf_lab_scrub_stack(depth - 1);
	/* Live across the call: no tail call, the frames stack up. */
	barrier_data(buf);
}

static int p2pbuf_lab_leak_fn(void *data)
{
	p2pbuf_lab_leak_small();
	p2pbuf_lab_leak_large();
	p2pbuf_lab_scrub_stack(8);
	kthread_complete_and_exit(data, 0);
}

static int p2pbuf_lab_leak(void)
{
	DECLARE_COMPLETION_ONSTACK(done);
	struct task_struct *t;

	t = kthread_run(p2pbuf_lab_leak_fn, &done, "p2pbuf_lab_leak");
	if (IS_ERR(t))
		return PTR_ERR(t);
	wait_for_completion(&done);
	return 0;
}

static int p2pbuf_lab_dma(const char *bdf)
{
	unsigned int domain, bus, slot, fn;
	struct pci_dev *pdev;
	dma_addr_t addr;
	void *buf;
	int ret = 0;

	if (!bdf || sscanf(bdf, "%x:%x:%x.%x", &domain, &bus, &slot, &fn) != 4)
		return -EINVAL;
	pdev = pci_get_domain_bus_and_slot(domain, bus, PCI_DEVFN(slot, fn));
	if (!pdev)
		return -ENODEV;
	buf = kmalloc(64, GFP_KERNEL);
	if (!buf) {
		ret = -ENOMEM;
		goto put_pdev;
	}
	addr = dma_map_single(&pdev->dev, buf, 64, DMA_TO_DEVICE);
	if (dma_mapping_error(&pdev->dev, addr)) {
		ret = -EIO;
		goto free_buf;
	}
	/* The wrong size: DMA-API debug reports it. */
	dma_unmap_single(&pdev->dev, addr, 32, DMA_TO_DEVICE);
free_buf:
	kfree(buf);
put_pdev:
	pci_dev_put(pdev);
	return ret;
}

static int p2pbuf_lab_exit_held_fn(void *unused)
{
	mutex_lock(&p2pbuf_lab_exit_lock);
	/* do_exit() checks that the task holds no lock: it does. */
	kthread_complete_and_exit(&p2pbuf_lab_exit_done, 0);
}

/* Once per boot: the mutex stays held by the thread that exited. */
static int p2pbuf_lab_exit_held(void)
{
	struct task_struct *t;

	if (mutex_is_locked(&p2pbuf_lab_exit_lock))
		return -EBUSY;
	t = kthread_run(p2pbuf_lab_exit_held_fn, NULL, "p2pbuf_lab_exit");
	if (IS_ERR(t))
		return PTR_ERR(t);
	wait_for_completion(&p2pbuf_lab_exit_done);
	return 0;
}

static enum hrtimer_restart p2pbuf_lab_irq_fn(struct hrtimer *timer)
{
	raw_spin_lock(&p2pbuf_lab_irq_lock);
	raw_spin_unlock(&p2pbuf_lab_irq_lock);
	complete(&p2pbuf_lab_irq_done);
	return HRTIMER_NORESTART;
}

/* Takes p2pbuf_lab_irq_lock once in hard interrupt context. */
static void p2pbuf_lab_lock_in_irq(void)
{
	reinit_completion(&p2pbuf_lab_irq_done);
	hrtimer_start(&p2pbuf_lab_irq_timer, ms_to_ktime(1), HRTIMER_MODE_REL_HARD);
	wait_for_completion(&p2pbuf_lab_irq_done);
}

/* Takes p2pbuf_lab_task_lock with interrupts on, then under the irq lock. */
static void p2pbuf_lab_irq_lock_order(void)
{
	unsigned long flags;

	raw_spin_lock(&p2pbuf_lab_task_lock);
	raw_spin_unlock(&p2pbuf_lab_task_lock);
	raw_spin_lock_irqsave(&p2pbuf_lab_irq_lock, flags);
	raw_spin_lock(&p2pbuf_lab_task_lock);
	raw_spin_unlock(&p2pbuf_lab_task_lock);
	raw_spin_unlock_irqrestore(&p2pbuf_lab_irq_lock, flags);
}

static int p2pbuf_lab_oops_fn(void *unused)
{
	int *p = NULL;

	OPTIMIZER_HIDE_VAR(p);
	WRITE_ONCE(*p, 1);
	return 0;
}

static int p2pbuf_lab_hold_fn(void *unused)
{
	mutex_lock(&p2pbuf_lab_hung_lock);
	/* In I/O wait: the hung-task report's other form. */
	wait_for_completion_io(&p2pbuf_lab_release);
	mutex_unlock(&p2pbuf_lab_hung_lock);
	kthread_complete_and_exit(&p2pbuf_lab_hung_done[0], 0);
}

static int p2pbuf_lab_wait_fn(void *unused)
{
	mutex_lock(&p2pbuf_lab_hung_lock);
	mutex_unlock(&p2pbuf_lab_hung_lock);
	kthread_complete_and_exit(&p2pbuf_lab_hung_done[1], 0);
}

/* Let the "hung" threads go and wait until both have exited. */
static void p2pbuf_lab_release_hung(void)
{
	if (!p2pbuf_lab_hung_started)
		return;
	complete_all(&p2pbuf_lab_release);
	wait_for_completion(&p2pbuf_lab_hung_done[0]);
	wait_for_completion(&p2pbuf_lab_hung_done[1]);
	p2pbuf_lab_hung_started = false;
}

static int p2pbuf_lab_hung(void)
{
	struct task_struct *t;

	if (p2pbuf_lab_hung_started)
		return -EBUSY;
	reinit_completion(&p2pbuf_lab_release);
	init_completion(&p2pbuf_lab_hung_done[0]);
	init_completion(&p2pbuf_lab_hung_done[1]);
	t = kthread_run(p2pbuf_lab_hold_fn, NULL, "p2pbuf_lab_hold");
	if (IS_ERR(t))
		return PTR_ERR(t);
	p2pbuf_lab_hung_started = true;
	/* The waiter must find the mutex taken. */
	while (!mutex_is_locked(&p2pbuf_lab_hung_lock))
		msleep(20);
	t = kthread_run(p2pbuf_lab_wait_fn, NULL, "p2pbuf_lab_wait");
	if (IS_ERR(t)) {
		complete(&p2pbuf_lab_hung_done[1]);
		p2pbuf_lab_release_hung();
		return PTR_ERR(t);
	}
	return 0;
}

/* "stall", "exp_stall" and "tasks_stall": a spinner and a grace-period waiter. */
enum p2pbuf_lab_gp {
	P2PBUF_LAB_GP_NORMAL,
	P2PBUF_LAB_GP_EXPEDITED,
	P2PBUF_LAB_GP_TASKS,
};

struct p2pbuf_lab_thread {
	unsigned int ms;		/* spinner: how long */
	bool preemptible;		/* spinner: with preemption on */
	enum p2pbuf_lab_gp gp;		/* waiter: which grace period */
	struct completion done;
};

static int p2pbuf_lab_spin_fn(void *data)
{
	struct p2pbuf_lab_thread *s = data;
	ktime_t end = ktime_add_ms(ktime_get(), s->ms);

	if (!s->preemptible)
		preempt_disable();
	/*
	 * Never sleeps: no quiescent state for RCU tasks either way. The end
	 * is on the clock the watchdogs read, not a count of mdelay(1): on a
	 * loaded TCG host the delay loop ran short (6000 x mdelay(1) ended
	 * within 4.2 s of guest time), too close to the 2 s after which the
	 * soft lockup watchdog reports with watchdog_thresh = 1.
	 */
	while (ktime_before(ktime_get(), end))
		cpu_relax();
	if (!s->preemptible)
		preempt_enable();
	kthread_complete_and_exit(&s->done, 0);
}

static int p2pbuf_lab_gp_fn(void *data)
{
	struct p2pbuf_lab_thread *w = data;

	switch (w->gp) {
	case P2PBUF_LAB_GP_NORMAL:
		synchronize_rcu();
		break;
	case P2PBUF_LAB_GP_EXPEDITED:
		synchronize_rcu_expedited();
		break;
	case P2PBUF_LAB_GP_TASKS:
		synchronize_rcu_tasks();
		break;
	}
	kthread_complete_and_exit(&w->done, 0);
}

static int p2pbuf_lab_stall(unsigned int ms, enum p2pbuf_lab_gp gp)
{
	/* An RCU tasks stall needs a preemptible spinner that never sleeps. */
	struct p2pbuf_lab_thread spin = {
		.ms = ms, .preemptible = gp == P2PBUF_LAB_GP_TASKS,
	};
	struct p2pbuf_lab_thread wait = { .gp = gp };
	struct task_struct *t;

	if (!ms || ms > 30000 || num_online_cpus() < 2)
		return -EINVAL;
	init_completion(&spin.done);
	/* The spinner on the last CPU, the waiters wherever they run. */
	t = kthread_run_on_cpu(p2pbuf_lab_spin_fn, &spin, num_online_cpus() - 1,
			       "p2pbuf_lab_spin/%u");
	if (IS_ERR(t))
		return PTR_ERR(t);
	/* Let it spin before the grace period begins. */
	msleep(100);
	init_completion(&wait.done);
	t = kthread_run(p2pbuf_lab_gp_fn, &wait, "p2pbuf_lab_gp");
	wait_for_completion(&spin.done);
	if (IS_ERR(t))
		return PTR_ERR(t);
	wait_for_completion(&wait.done);
	return 0;
}

static int p2pbuf_lab_provoke(char *req)
{
	char *arg = strim(req);
	char *what = strsep(&arg, " ");
	unsigned int ms = 0;
	struct task_struct *t;

	pr_info("provoke %s\n", what);
	if (arg && strstr(what, "stall") &&
	    kstrtouint(arg, 0, &ms))
		return -EINVAL;

	if (!strcmp(what, "lockdep_unlock")) {
		mutex_unlock(&p2pbuf_lab_idle_lock);
		return 0;
	}
	if (!strcmp(what, "lockdep_freed"))
		return p2pbuf_lab_lockdep_freed();
	if (!strcmp(what, "lockdep_exit_held"))
		return p2pbuf_lab_exit_held();
	if (!strcmp(what, "lockdep_safe_unsafe") ||
	    !strcmp(what, "lockdep_irq_inversion")) {
		/* Their lock classes carry what the first one taught lockdep. */
		if (p2pbuf_lab_irq_used)
			return -EBUSY;
		p2pbuf_lab_irq_used = true;
	}
	if (!strcmp(what, "lockdep_safe_unsafe")) {
		/* irq-safe first: the order then adds an irq-unsafe lock under it. */
		p2pbuf_lab_lock_in_irq();
		p2pbuf_lab_irq_lock_order();
		return 0;
	}
	if (!strcmp(what, "lockdep_irq_inversion")) {
		/* The order first: taking the lock in irq context inverts it. */
		p2pbuf_lab_irq_lock_order();
		p2pbuf_lab_lock_in_irq();
		return 0;
	}
	if (!strcmp(what, "lockdep_nest")) {
		spin_lock_nest_lock(&p2pbuf_lab_nest_child, &p2pbuf_lab_nest_parent);
		spin_unlock(&p2pbuf_lab_nest_child);
		return 0;
	}
	if (!strcmp(what, "panic"))
		panic("p2pbuf lab detector self-test: deliberate panic\n");
	if (!strcmp(what, "kasan"))
		return p2pbuf_lab_kasan();
	if (!strcmp(what, "ubsan"))
		return p2pbuf_lab_ubsan();
	if (!strcmp(what, "leak"))
		return p2pbuf_lab_leak();
	if (!strcmp(what, "dma"))
		return p2pbuf_lab_dma(arg);
	if (!strcmp(what, "warn")) {
		WARN(1, "p2pbuf lab detector self-test: deliberate warning\n");
		return 0;
	}
	if (!strcmp(what, "atomic_sleep")) {
		preempt_disable();
		might_sleep();
		preempt_enable();
		return 0;
	}
	if (!strcmp(what, "oops")) {
		t = kthread_run(p2pbuf_lab_oops_fn, NULL, "p2pbuf_lab_oops");
		return PTR_ERR_OR_ZERO(t);
	}
	if (!strcmp(what, "hung"))
		return p2pbuf_lab_hung();
	if (!strcmp(what, "release")) {
		p2pbuf_lab_release_hung();
		return 0;
	}
	if (!strcmp(what, "stall"))
		return p2pbuf_lab_stall(ms, P2PBUF_LAB_GP_NORMAL);
	if (!strcmp(what, "exp_stall"))
		return p2pbuf_lab_stall(ms, P2PBUF_LAB_GP_EXPEDITED);
	if (!strcmp(what, "tasks_stall"))
		return p2pbuf_lab_stall(ms, P2PBUF_LAB_GP_TASKS);
	return -EINVAL;
}

static ssize_t p2pbuf_lab_provoke_write(struct file *file, const char __user *ubuf,
					size_t len, loff_t *ppos)
{
	char *req;
	int ret;

	if (len > 64)
		return -E2BIG;
	req = memdup_user_nul(ubuf, len);
	if (IS_ERR(req))
		return PTR_ERR(req);
	/* Outside the request lock: "stuck" never returns. */
	if (sysfs_streq(req, "stuck")) {
		pr_info("provoke stuck\n");
		kfree(req);
		wait_for_completion(&p2pbuf_lab_never);
		return len;
	}
	mutex_lock(&p2pbuf_lab_provoke_lock);
	ret = p2pbuf_lab_provoke(req);
	mutex_unlock(&p2pbuf_lab_provoke_lock);
	kfree(req);
	return ret ? ret : len;
}

static const struct file_operations p2pbuf_lab_provoke_fops = {
	.owner = THIS_MODULE,
	.write = p2pbuf_lab_provoke_write,
};

static int __init p2pbuf_lab_detect_init(void)
{
	hrtimer_setup(&p2pbuf_lab_irq_timer, p2pbuf_lab_irq_fn, CLOCK_MONOTONIC,
		      HRTIMER_MODE_REL_HARD);
	p2pbuf_lab_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("provoke", 0200, p2pbuf_lab_dir, NULL,
			    &p2pbuf_lab_provoke_fops);
	return 0;
}
module_init(p2pbuf_lab_detect_init);

static void __exit p2pbuf_lab_detect_exit(void)
{
	debugfs_remove_recursive(p2pbuf_lab_dir);
	hrtimer_cancel(&p2pbuf_lab_irq_timer);
	mutex_lock(&p2pbuf_lab_provoke_lock);
	p2pbuf_lab_release_hung();
	mutex_unlock(&p2pbuf_lab_provoke_lock);
}
module_exit(p2pbuf_lab_detect_exit);

MODULE_DESCRIPTION("p2pbuf lab detector self-test: provokes kernel reports on request");
MODULE_LICENSE("GPL");
MODULE_INFO(test, "Y");
