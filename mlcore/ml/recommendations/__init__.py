"""The hybrid recommender, Django-free: candidate models, hybrid, rules, metrics and the ranker.

Modules: interactions (index maps and the customer x product matrices), popularity, buy_again,
cf (implicit ALS and item-kNN), content (sentence embeddings), tifu (TIFU-KNN), slots (the
repeat/explore slot split), hybrid (normalised blend, the validation grid and coordinate search),
tuning (every choice made on the validation window), rules (exclusions and category diversity), metrics, evaluation (the
two offline protocols), model (the trained artefact and top-N scoring) and ranker* (the
cross-encoder re-ranker and its Django-free training entry).
"""
