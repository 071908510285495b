/**
 * What {@code main} does before the pipeline runs. {@link
 * dev.campaignnotifier.startup.ServiceConfig} resolves the options once; {@link
 * dev.campaignnotifier.startup.Preflight} reaches every server once, so that a typo or an
 * unreachable database is one readable line and a non-zero exit at start-up, not a stack trace from
 * a worker minutes later; {@link dev.campaignnotifier.startup.GroupLock} makes a second copy of the
 * service a standby; {@link dev.campaignnotifier.startup.ReplayPlan} moves the consumer group back
 * to what may be undelivered and tells the pipeline what an earlier run finished.
 */
package dev.campaignnotifier.startup;
