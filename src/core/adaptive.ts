/** PyTorch's adaptive pooling bins along one axis: [floor(i*L/s), ceil((i+1)*L/s)) for i < s. */
export function adaptiveBins(length: number, size: number): Array<[number, number]> {
  const bins: Array<[number, number]> = [];
  for (let i = 0; i < size; i++) {
    bins.push([Math.floor((i * length) / size), Math.ceil(((i + 1) * length) / size)]);
  }
  return bins;
}
