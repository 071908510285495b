package dev.campaignnotifier.local;

import dev.campaignnotifier.model.Campaign;

/**
 * The brief's sample campaign, the one copy of it: the quick start prints it for the user to
 * publish, the tests and the benchmark publish it with their own ids and times.
 */
public final class SampleCampaign {
  /** The restaurant of the sample, whose favourites {@code sql/002_sample_subscribers.sql} adds. */
  public static final String RESTAURANT = "123e4567-e89b-12d3-a456-426614174000";

  public static final String CAMPAIGN_ID = "123e4567-e89b-12d3-a456-426614174003";

  private static final String CONTENT = "first campaign";
  private static final String OWNER = "Ivanov Ivan Ivanovich";
  private static final String OWNER_CONTACT = "iiivanov@restaurant.ru";

  private SampleCampaign() {}

  /** The sample as a Kafka message value, with the given ids and times (epoch seconds). */
  public static String json(
      String campaignId, String restaurant, long start, long end, long created) {
    return "{\"restaurant_id\": \""
        + restaurant
        + "\",\"adv_campaign_id\": \""
        + campaignId
        + "\",\"adv_campaign_content\": \""
        + CONTENT
        + "\",\"adv_campaign_owner\": \""
        + OWNER
        + "\",\"adv_campaign_owner_contact\": \""
        + OWNER_CONTACT
        + "\",\"adv_campaign_datetime_start\": "
        + start
        + ",\"adv_campaign_datetime_end\": "
        + end
        + ",\"datetime_created\": "
        + created
        + "}";
  }

  /** The sample as the parser reads it, with the given ids and times (epoch seconds). */
  public static Campaign campaign(
      String campaignId, String restaurant, long start, long end, long created) {
    return new Campaign(restaurant, campaignId, CONTENT, OWNER, OWNER_CONTACT, start, end, created);
  }
}
