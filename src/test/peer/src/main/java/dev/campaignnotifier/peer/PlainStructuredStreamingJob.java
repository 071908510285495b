package dev.campaignnotifier.peer;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.from_json;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.to_json;
import static org.apache.spark.sql.functions.unix_timestamp;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The plain Spark Structured Streaming job a user could write in an afternoon instead of the
 * service, for the benchmark to measure beside it ({@code runners/benchmark.sh --peer}): campaigns
 * from Kafka, parsed with {@code from_json}, active ones joined with a broadcast of {@code
 * subscribers_restaurants} (read once at start and cached: a stream-static join), and each
 * micro-batch written with {@code foreachBatch}: one JDBC batch insert into the feedback table, then
 * one Kafka write of the notifications (key {@code <adv_campaign_id>:<client_id>}, the contract's
 * JSON). {@code local[2]}, the default trigger (a micro-batch as soon as the last one is done); the
 * topic from its beginning (the benchmark gives it fresh topics).
 *
 * <p>What it does not do, and the service does: hold a campaign until its start, drop a repeat,
 * notify late subscribers, see a favourite added after it started, keep the two sinks in step (a
 * crash between the insert and the Kafka write leaves rows without messages, a retry of the batch
 * repeats both), dead-letter bad input (a record that is not a campaign is a row of nulls, dropped).
 *
 * <p>Options: {@code --bootstrapServers}, {@code --inputTopic}, {@code --outputTopic}, {@code
 * --jdbcUrl}, {@code --jdbcUser}, {@code --jdbcPasswordFile} (else {@code $JDBC_PASSWORD}), {@code
 * --feedbackTable}, {@code --checkpointDir}, {@code --master} (default {@code local[2]}).
 */
public final class PlainStructuredStreamingJob {
  private PlainStructuredStreamingJob() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> o = new HashMap<>();
    for (String arg : args) {
      String[] kv = arg.substring(2).split("=", 2);
      o.put(kv[0], kv.length > 1 ? kv[1] : "true");
    }
    String bootstrap = o.get("bootstrapServers");
    String jdbcUrl = o.get("jdbcUrl");
    String table = o.getOrDefault("feedbackTable", "public.subscribers_feedback");
    Properties jdbc = new Properties();
    jdbc.put("driver", "org.postgresql.Driver");
    jdbc.put("user", o.getOrDefault("jdbcUser", "jovyan"));
    String password =
        o.containsKey("jdbcPasswordFile")
            ? Files.readAllLines(Path.of(o.get("jdbcPasswordFile"))).get(0)
            : System.getenv("JDBC_PASSWORD");
    if (password != null && !password.isEmpty()) {
      jdbc.put("password", password);
    }

    SparkSession spark =
        SparkSession.builder()
            .master(o.getOrDefault("master", "local[2]"))
            .appName("plain-structured-streaming")
            .config("spark.ui.enabled", "false")
            .getOrCreate();
    spark.sparkContext().setLogLevel("WARN");

    Dataset<Row> subscribers =
        spark
            .read()
            .jdbc(jdbcUrl, "public.subscribers_restaurants", jdbc)
            .select("restaurant_id", "client_id")
            .distinct()
            .cache();
    System.out.println("peer: " + subscribers.count() + " subscriptions cached");

    StructType campaign =
        new StructType()
            .add("restaurant_id", DataTypes.StringType)
            .add("adv_campaign_id", DataTypes.StringType)
            .add("adv_campaign_content", DataTypes.StringType)
            .add("adv_campaign_owner", DataTypes.StringType)
            .add("adv_campaign_owner_contact", DataTypes.StringType)
            .add("adv_campaign_datetime_start", DataTypes.LongType)
            .add("adv_campaign_datetime_end", DataTypes.LongType)
            .add("datetime_created", DataTypes.LongType);
    Column now = unix_timestamp();
    Dataset<Row> notifications =
        spark
            .readStream()
            .format("kafka")
            .option("kafka.bootstrap.servers", bootstrap)
            .option("subscribe", o.get("inputTopic"))
            .option("startingOffsets", "earliest")
            .load()
            .select(from_json(col("value").cast("string"), campaign).as("c"))
            .select("c.*")
            .where(
                col("adv_campaign_datetime_start")
                    .leq(now)
                    .and(col("adv_campaign_datetime_end").geq(now)))
            .join(broadcast(subscribers), "restaurant_id")
            .withColumn("trigger_datetime_created", now.cast("int"));

    Column[] fields = {
      col("restaurant_id"),
      col("adv_campaign_id"),
      col("adv_campaign_content"),
      col("adv_campaign_owner"),
      col("adv_campaign_owner_contact"),
      col("adv_campaign_datetime_start"),
      col("adv_campaign_datetime_end"),
      col("client_id"),
      col("datetime_created"),
      col("trigger_datetime_created")
    };
    String outputTopic = o.get("outputTopic");
    VoidFunction2<Dataset<Row>, Long> writeBoth =
        (batch, id) -> {
          batch.persist();
          batch.select(fields).write().mode(SaveMode.Append).jdbc(jdbcUrl, table, jdbc);
          batch
              .select(
                  concat(col("adv_campaign_id"), lit(":"), col("client_id")).as("key"),
                  to_json(struct(fields)).as("value"))
              .write()
              .format("kafka")
              .option("kafka.bootstrap.servers", bootstrap)
              .option("topic", outputTopic)
              .save();
          batch.unpersist();
        };
    notifications
        .writeStream()
        .option("checkpointLocation", o.get("checkpointDir"))
        .foreachBatch(writeBoth)
        .start()
        .awaitTermination();
  }
}
