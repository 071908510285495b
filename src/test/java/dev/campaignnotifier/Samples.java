package dev.campaignnotifier;

import dev.campaignnotifier.local.SampleCampaign;
import dev.campaignnotifier.model.Campaign;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The brief's sample data, shared by unit and integration tests. */
public final class Samples {
  public static final String RESTAURANT = SampleCampaign.RESTAURANT;
  public static final String OTHER_RESTAURANT = "123e4567-e89b-12d3-a456-426614174001";
  public static final String CAMPAIGN_ID = SampleCampaign.CAMPAIGN_ID;

  /** The sample's {@code datetime_created}: version N of {@link #versionJson} is this + N. */
  public static final long CREATED = 1659131516L;

  /** The nine clients of {@link #RESTAURANT} in {@code sql/002_sample_subscribers.sql}, sorted. */
  public static final List<String> RESTAURANT_CLIENTS =
      List.of(
          "023e4567-e89b-12d3-a456-426614174000",
          "123e4567-e89b-12d3-a456-426614174000",
          "223e4567-e89b-12d3-a456-426614174000",
          "323e4567-e89b-12d3-a456-426614174000",
          "423e4567-e89b-12d3-a456-426614174000",
          "523e4567-e89b-12d3-a456-426614174000",
          "623e4567-e89b-12d3-a456-426614174000",
          "723e4567-e89b-12d3-a456-426614174000",
          "823e4567-e89b-12d3-a456-426614174000");

  public static final String OTHER_CLIENT = "923e4567-e89b-12d3-a456-426614174000";

  private Samples() {}

  /** The brief's sample campaign message with the given times (epoch seconds). */
  public static String campaignJson(String campaignId, String restaurant, long start, long end) {
    return SampleCampaign.json(campaignId, restaurant, start, end, CREATED);
  }

  /**
   * A version of a campaign: the sample with the given times, {@code datetime_created} after the
   * sample's by {@code version} seconds (0: the sample's), and {@code content}.
   */
  public static String versionJson(
      String campaignId, String restaurant, long start, long end, int version, String content) {
    return campaignJson(campaignId, restaurant, start, end)
        .replace("\"datetime_created\": " + CREATED, "\"datetime_created\": " + (CREATED + version))
        .replace("first campaign", content);
  }

  /** Another version of {@code c}: the same ids, owner and contact, the given fields. */
  public static Campaign version(Campaign c, long start, long end, long created, String content) {
    return new Campaign(
        c.restaurantId(),
        c.advCampaignId(),
        content,
        c.owner(),
        c.ownerContact(),
        start,
        end,
        created);
  }

  public static byte[] campaignBytes(long start, long end) {
    return campaignJson(CAMPAIGN_ID, RESTAURANT, start, end).getBytes(StandardCharsets.UTF_8);
  }

  public static Campaign campaign(String campaignId, String restaurant, long start, long end) {
    return SampleCampaign.campaign(campaignId, restaurant, start, end, CREATED);
  }

  /** The brief's exact sample: start 1659203516, end 2659207116. */
  public static Campaign briefCampaign() {
    return campaign(CAMPAIGN_ID, RESTAURANT, 1659203516L, 2659207116L);
  }

  /** Letters and digits that PostgreSQL cannot compress, from a fixed seed. */
  public static String randomId(int chars) {
    java.util.Random random = new java.util.Random(chars);
    String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    StringBuilder id = new StringBuilder(chars);
    for (int i = 0; i < chars; i++) {
      id.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return id.toString();
  }
}
