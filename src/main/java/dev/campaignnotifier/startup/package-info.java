/**
 * What happens before the pipeline runs: options are checked and every server is reached once, so
 * that a typo or an unreachable database is one readable line and a non-zero exit at start-up, not
 * a stack trace from a worker minutes later.
 */
package dev.campaignnotifier.startup;
