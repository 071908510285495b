/**
 * Campaigns from the input topic to the fan-out: read them bytes and all ({@link
 * dev.campaignnotifier.campaigns.ReadCampaigns}), parse them, bad ones to the dead-letter topic
 * ({@link dev.campaignnotifier.campaigns.ParseCampaigns}, {@link
 * dev.campaignnotifier.campaigns.WriteDeadLetters}), and let each through once, when it is active
 * ({@link dev.campaignnotifier.campaigns.ScheduleCampaigns}): held until its start, an update or a
 * cancellation recorded in {@code campaign_versions} ({@link
 * dev.campaignnotifier.campaigns.CampaignVersions}) and published to the updates topic ({@link
 * dev.campaignnotifier.campaigns.PublishCampaignUpdates}).
 */
package dev.campaignnotifier.campaigns;
