/** SNS and SQS message attributes of data type String, one per key: what subscribers and consumers filter on. */
export function stringAttributes(
  values: Readonly<Record<string, string>>,
): Record<string, { DataType: 'String'; StringValue: string }> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key, { DataType: 'String', StringValue: value }]),
  );
}
