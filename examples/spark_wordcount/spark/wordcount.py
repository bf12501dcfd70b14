"""Count words with Spark: the DatabricksStep's script (AML passes data as --<name> <URI>).

It ends as spark-submit scripts do, stopping its session and exiting; kubeline commits the
output after that (docs/spark.md).
"""

import argparse
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

parser = argparse.ArgumentParser()
parser.add_argument("--min_count", type=int, default=1)
parser.add_argument("--text", required=True)
parser.add_argument("--counts", required=True)
args = parser.parse_args()

spark = SparkSession.builder.getOrCreate()
lines = spark.read.text(args.text)
words = (lines.select(F.explode(F.split(F.lower("value"), r"[^a-z']+")).alias("word"))
         .where(F.length("word") > 0))
counts = words.groupBy("word").count().where(F.col("count") >= args.min_count)
counts.orderBy(F.desc("count"), "word").coalesce(1).write.mode("overwrite").csv(
    args.counts, header=True)
print(f"kubeline example: {counts.count()} distinct words written to {args.counts}")
spark.stop()
sys.exit(0)
