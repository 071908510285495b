package dev.campaignnotifier.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ObjectStreamClass;
import java.util.HexFormat;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.util.CoderUtils;

/**
 * What the golden tests of the coders a runner keeps share: each stage's test ({@code
 * CodersGoldenTest} here, {@code ScheduleCampaignsGoldenTest}, {@code FanOutGoldenTest}, {@code
 * NotifyLateSubscribersGoldenTest}) holds its coders to the bytes this build writes and reads, and
 * to their serialVersionUID: Flink keeps each state's coder, Java serialized, beside the state, and
 * a coder class whose serialVersionUID changed cannot be read back from an earlier build's
 * checkpoint or savepoint. When a format must change, give it a new version that reads the old one
 * too ({@link Campaign.CampaignCoder}), and add the new bytes beside the old, never instead of them
 * (docs/operations.md, Upgrading).
 */
public final class Golden {
  private Golden() {}

  /** The campaign the golden values carry. */
  public static final Campaign CAMPAIGN =
      new Campaign(
          "r-1",
          "c-1",
          "50% off",
          "Ivanov",
          "ivanov@r.ru",
          1_700_000_000L,
          1_700_003_600L,
          1_699_999_000L);

  /** {@link #CAMPAIGN} as this build writes it: {@code 00}, the version {@code 01}, the fields. */
  public static final String CAMPAIGN_HEX =
      "000103722d3103632d3107353025206f6666064976616e6f760b6976616e6f7640722e727580e2cfaa0690fecfaa0698dacfaa06";

  /** {@code value} is written as {@code hex}, and {@code hex} is read back as {@code value}. */
  public static <T> void golden(Coder<T> coder, T value, String hex) throws Exception {
    byte[] bytes = CoderUtils.encodeToByteArray(coder, value);
    assertEquals(hex, HexFormat.of().formatHex(bytes), "the bytes this build writes");
    assertEquals(value, CoderUtils.decodeFromByteArray(coder, HexFormat.of().parseHex(hex)));
  }

  /** The coder class keeps the serialVersionUID an earlier build's checkpoint names. */
  public static void pinned(Class<?> coder, long serialVersionUid) {
    assertEquals(
        serialVersionUid,
        ObjectStreamClass.lookup(coder).getSerialVersionUID(),
        coder.getName() + "'s serialVersionUID");
  }
}
